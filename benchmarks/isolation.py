"""Run one measurement in a fresh Python process, so that its peak memory (``ru_maxrss``,
which only ever grows) and its caches belong to that measurement alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def in_fresh_process(module: str, function: str, *args) -> dict:
    """``module.function(*args)`` (a benchmark script's function returning a JSON-able dict)
    called in a new interpreter; its return value."""
    code = (f"import json, sys; sys.path.insert(0, {str(HERE)!r}); from {module} import {function}; "
            f"print(json.dumps({function}(*{list(args)!r})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{module}.{function}{tuple(args)!r} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])
