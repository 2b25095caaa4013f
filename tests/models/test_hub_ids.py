"""Hub ids as users write them (gpt2, org/name, org/name@rev): their form is checked
locally, and an offline machine or an unreachable hub is one line within seconds — the
real failure path (HF_HUB_OFFLINE, a closed local port as the endpoint), not a mock."""

import time

import pytest

from pope_bench.core.errors import BadInput
from pope_bench.data.hub import hub_reachable
from pope_bench.models.checkpoints import entry_for
from pope_bench.models.hub_ids import parse_hub_id


@pytest.mark.parametrize("name, parsed", [
    ("gpt2", ("gpt2", None)),
    ("org/name", ("org/name", None)),
    ("org/name@v1.0", ("org/name", "v1.0")),
    ("EleutherAI/pythia-70m@refs/pr/1", ("EleutherAI/pythia-70m", "refs/pr/1")),
])
def test_hub_ids_parse(name, parsed):
    assert parse_hub_id(name) == parsed


@pytest.mark.parametrize("name", ["a/b/c", "org/na me", "org/name@", "-x", "org--x/y", "./no-such-folder"])
def test_illegal_hub_ids_are_bad_input(name):
    with pytest.raises(BadInput, match="not a registry name"):
        entry_for(name, {})


@pytest.fixture
def fresh_reachability():
    hub_reachable.cache_clear()
    yield
    hub_reachable.cache_clear()


@pytest.mark.parametrize("env, why", [
    ({"HF_HUB_OFFLINE": "1"}, "HF_HUB_OFFLINE is set"),
    ({"HF_ENDPOINT": "http://127.0.0.1:9"}, "http://127.0.0.1:9 does not answer"),
])
def test_unreachable_hub_is_one_line_in_seconds(monkeypatch, fresh_reachability, env, why):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    started = time.monotonic()
    with pytest.raises(BadInput) as error:
        entry_for("org/name@main", {})
    assert time.monotonic() - started < 5
    assert "hub is unreachable" in str(error.value) and why in str(error.value) and "--model" in str(error.value)


def test_run_gpt2_offline_exits_2_quickly(tmp_path, cli):
    started = time.monotonic()
    done = cli("run", "-m", "gpt2", "--out", tmp_path / "r", env={"HF_HUB_OFFLINE": "1"})
    assert time.monotonic() - started < 20
    assert done.returncode == 2 and "hub is unreachable" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "r").exists()


def test_config_json_tells_rotary_from_learned_positions():
    from transformers import GPT2Config, LlamaConfig

    from pope_bench.models.hub_ids import config_facts

    llama = config_facts(LlamaConfig(max_position_embeddings=4096).to_dict())
    assert llama == {"pe": "rope", "train_length": 4096}
    gpt2 = config_facts(GPT2Config(n_positions=1024).to_dict())
    assert gpt2 == {"pe": "absolute", "train_length": 1024, "max_length": 1024}  # no position past its table
    neox = config_facts({"max_position_embeddings": 2048, "rotary_pct": 0.25, "rotary_emb_base": 10000})
    assert neox["pe"] == "rope"
