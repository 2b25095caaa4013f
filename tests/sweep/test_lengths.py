"""The --lengths grammar of docs/contracts.md: valid forms, per-model resolution, and bad input."""

import pytest

from pope_bench.core.errors import BadInput
from pope_bench.sweep.lengths import Length, parse_lengths, resolve_lengths


def resolved(spec, train_length=256, max_length=10**6):
    return resolve_lengths(parse_lengths(spec), train_length, max_length, "m")


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("1k..16k", [1024, 2048, 4096, 8192, 16384]),
        ("1k..10k:1k", [1024 * i for i in range(1, 11)]),
        ("1x..10x", [256 * i for i in range(1, 11)]),
        ("2x..8x:2x", [512, 1024, 1536, 2048]),
        ("256,512,1k,4x", [256, 512, 1024]),  # 4x of 256 is 1k: listed once
        ("100", [100]),
        ("3K", [3072]),
        (" 1k , 2k ", [1024, 2048]),
        ("128..128", [128]),
    ],
)
def test_valid_forms(spec, expected):
    assert resolved(spec) == expected


def test_multiples_resolve_per_model():
    lengths = parse_lengths("1x,4x")
    assert resolve_lengths(lengths, 128, 10**6, "a") == [128, 512]
    assert resolve_lengths(lengths, 1024, 10**6, "b") == [1024, 4096]
    assert lengths == [Length(1, True), Length(4, True)]


@pytest.mark.parametrize(
    "spec, words",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("0x", "positive"),
        ("0", "positive"),
        ("4k..1k", "descending"),
        ("1k..10k:0", "positive"),
        ("1k..3k", "doubling"),
        ("1x..4k", "mixes"),
        ("1k..4k:1x", "same unit"),
        ("abc", "not a length"),
        ("1.5k", "not a length"),
        ("-1k", "not a length"),
        ("1k,,2k", "empty item"),
    ],
)
def test_malformed_specs_are_one_line_errors(spec, words):
    with pytest.raises(BadInput) as error:
        parse_lengths(spec)
    message = str(error.value)
    assert words in message and "\n" not in message


def test_length_above_model_limit_is_an_error_before_work():
    with pytest.raises(BadInput, match="above what m can take"):
        resolved("1k..16k", max_length=8192)
