"""``OUT/manifest.json``: what every run into a results folder was — command, versions,
git sha, seeds, full configuration and data checksums — so a row can always be traced."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from functools import cache
from pathlib import Path

from pope_bench import __version__
from pope_bench.core.errors import BadInput


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
    from pope_bench.sweep.results import folder_lock

    path = Path(out) / "manifest.json"
    entry = {"argv": sys.argv, "versions": versions(), "git_sha": git_sha(), **run}
    with folder_lock(out):
        manifest = read_manifest(out)
        manifest["runs"].append(entry)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest, indent=2, default=str))
        tmp.replace(path)


def read_manifest(out: Path) -> dict:
    """The folder's manifest (``{"runs": []}`` when there is none yet); a corrupt one is a
    one-line error before anything is written, never silently replaced."""
    path = Path(out) / "manifest.json"
    if not path.exists():
        return {"runs": []}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadInput(f"{path} is not a readable manifest ({e}); move it aside and rerun (results.jsonl is kept)") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("runs"), list):
        raise BadInput(f"{path} is not a pope-bench manifest (no runs list); move it aside and rerun")
    return manifest
