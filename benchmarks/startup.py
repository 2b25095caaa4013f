"""How long the CLI takes before any real work: `--help`, `version`, the `list` commands
and bad-input errors (issue 14's target: median ≤ 1.5 s each), and whether each one
imported torch / transformers / pandas (it must not, until a command needs them).

Each command runs in a fresh interpreter, ``--rounds`` times, interleaved; the table shows
the median and the spread. Run it from the repository root:

    python benchmarks/startup.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

#: None: a bare ``python -c pass``, the floor every command stands on
COMMANDS = [
    None,
    ["--help"],
    ["version"],
    ["list", "models"],
    ["list", "suites"],
    ["list", "tasks"],
    ["run", "--lengths", "1x..foo"],
    ["run", "-m", "rope-text-tny", "-t", "perplexity_text"],
    ["run", "-t", "perplexity_txt"],
    ["run", "--suite", "nosuch"],
    ["run", "--threads", "0"],
    ["run", "-m", "a/b/c"],
    ["run", "-m", "gpt2"],
]
#: one CLI call that reports, on its last stderr line, its exit code and the heavy modules it imported
PROBE = """import sys
sys.argv = ["pope-bench", *sys.argv[1:]]
from pope_bench.cli import main
code = 0
try:
    main()
except SystemExit as e:
    code = e.code or 0
heavy = [m for m in ("torch", "transformers", "pandas") if m in sys.modules]
print(f"PROBE {code} {','.join(heavy) or '-'}", file=sys.stderr)
"""


def once(args: list[str] | None, env: dict) -> tuple[float, int, str]:
    started = time.perf_counter()
    program = ["-c", PROBE, *args] if args is not None else ["-c", "import sys; print('PROBE 0 -', file=sys.stderr)"]
    done = subprocess.run([sys.executable, *program], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    _, code, heavy = done.stderr.strip().splitlines()[-1].split()
    return seconds, int(code), heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "80"}
    times: dict[int, list[float]] = {i: [] for i in range(len(COMMANDS))}
    facts: dict[int, tuple[int, str]] = {}
    for _ in range(rounds):
        for i, args in enumerate(COMMANDS):
            seconds, code, heavy = once(args, env)
            times[i].append(seconds)
            facts[i] = (code, heavy)
    load = os.getloadavg()[0]
    print(f"pope-bench start-up, median of {rounds} rounds (HF_HUB_OFFLINE=1; 1-min load {load:.1f} "
          f"on {os.cpu_count()} cores)\n")
    print(f"{'command':<52} {'median s':>8} {'min–max s':>11}  exit  heavy imports")
    for i, args in enumerate(COMMANDS):
        values = times[i]
        code, imported = facts[i]
        name = "python -c pass (the floor)" if args is None else "pope-bench " + " ".join(args)
        print(f"{name:<52} {statistics.median(values):8.2f} "
              f"{min(values):5.2f}–{max(values):<5.2f}  {code:>4}  {imported}")


if __name__ == "__main__":
    main()
