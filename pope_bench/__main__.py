"""``python -m pope_bench`` is the ``pope-bench`` command."""

from pope_bench.cli import main

main()
