"""``OUT/manifest.json``: what every run into a results folder was — command, versions,
git sha, seeds, full configuration and data checksums — so a row can always be traced."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pope_bench import __version__
from pope_bench.core.errors import BadInput
from pope_bench.core.schema import read_json, validate


@cache
def git_sha() -> str | None:
    """The commit of the pope-bench source tree, when it is a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def versions() -> dict:
    import pandas
    import torch
    import transformers

    return {"pope_bench": __version__, "python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "pandas": pandas.__version__}


def record_run(out: Path, run: dict) -> None:
    """Append this run's entry to the folder's manifest (atomically, and under the
    folder's lock: shards started at once each add their entry, none is lost)."""
    from pope_bench.sweep.rows import folder_lock

    path = Path(out) / "manifest.json"
    entry = {"argv": sys.argv, "versions": versions(), "git_sha": git_sha(), **run}
    with folder_lock(out):
        manifest = read_manifest(out)
        manifest["runs"].append(entry)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest, indent=2, default=str))
        tmp.replace(path)


class RunRecord(BaseModel):
    """What readers use of one run's entry (``plot``'s order, ``figures``' commands), each
    of its own type. Other keys are kept as written: the entry is a record of a past
    version's run, not a file a user writes, so a key a newer version dropped is no error."""

    model_config = ConfigDict(extra="allow", frozen=True)

    run_id: str | None = None
    argv: list[str] = []
    tasks: dict[str, object] = {}
    models: dict[str, object] = {}


class Manifest(BaseModel):
    """``manifest.json``: a mapping whose ``runs`` lists every run into the folder."""

    model_config = ConfigDict(extra="allow")

    runs: list[RunRecord]


def read_manifest(out: Path) -> dict:
    """The folder's manifest as written (``{"runs": []}`` when there is none yet), checked
    against :class:`Manifest`: the one reader of every ``manifest.json`` (``run`` before it
    appends, ``plot`` for its order, ``figures`` for its commands). A corrupt one is a
    one-line error before anything is written, never silently replaced."""
    path = Path(out) / "manifest.json"
    if not path.exists():
        return {"runs": []}
    data = read_json(path, "manifest")
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise BadInput(f"{path} is not a pope-bench manifest (no runs list); move it aside and rerun")
    validate(Manifest, data, f"manifest {path} (move it aside and rerun)")
    return data


def manifest_runs(out: Path) -> list[RunRecord]:
    """The typed run entries of a folder's manifest (none without one)."""
    return validate(Manifest, read_manifest(out), f"manifest {Path(out) / 'manifest.json'}").runs
