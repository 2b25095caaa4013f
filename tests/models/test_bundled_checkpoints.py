"""The bundled checkpoints are what checkpoints.yaml says they are, and each records the
command that made it (a few MB each, produced by the project's own `pope-bench train`)."""

import shlex
from pathlib import Path

import pytest
import yaml

from pope_bench.cli import default_registry
from pope_bench.models.checkpoints import load_registry
from pope_bench.models.loading import verify_native_weights
from pope_bench.sweep.runner import model_fingerprint

REPO = Path(__file__).resolve().parents[2]
BUNDLED = [entry for entry in load_registry(default_registry()).values() if entry.path is not None]


def test_every_encoding_of_the_text_recipe_is_bundled():
    text = {entry.pe for entry in BUNDLED if entry.name.endswith("-text-tiny")}
    assert text == {"rope", "pope", "alibi", "fire", "xpos"}


def test_bundled_checkpoints_have_distinct_fingerprints():
    # one weights fingerprint per folder (a scaling variant shares its base's weights)
    by_folder = {entry.path.resolve(): model_fingerprint(entry) for entry in BUNDLED}
    assert len(set(by_folder.values())) == len(by_folder) == 11


@pytest.mark.parametrize("entry", BUNDLED, ids=lambda entry: entry.name)
def test_bundled_checkpoint_loads_strictly_and_records_its_training_command(entry):
    # the registry's pe / train_length / tokenizer equal config.json's, and the safetensors
    # headers hold exactly the tensors the config describes (checked on the meta device)
    verify_native_weights(entry)  # raises BadInput on a missing, extra or reshaped tensor
    command = shlex.split((entry.path / "train_command.txt").read_text())
    assert command[:2] == ["pope-bench", "train"]
    assert yaml.safe_load((entry.path / "recipe.yaml").read_text())["name"] == command[2]  # the recipe it names
    options = dict(zip(command[3::2], command[4::2]))
    assert options["--pe"] == entry.pe
    assert (REPO / options["--out"]).resolve() == entry.path.resolve()
    assert sum(f.stat().st_size for f in entry.path.iterdir()) < 20 * 2**20  # a few MB, never a data dump
