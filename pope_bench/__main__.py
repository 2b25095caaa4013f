"""``python -m pope_bench`` is the ``pope-bench`` command."""

from .cli import main

main()
