"""pope-bench: length-extrapolation benchmarks for positional encodings (RoPE, PoPE, NoPE).

The native model classes are imported on first use (``from pope_bench import
PopeBenchForCausalLM``, or ``import pope_bench.models.native``), which also registers them with
``AutoConfig`` and ``AutoModelForCausalLM``. The package root itself imports neither torch
nor transformers, so the CLI starts at once (``pope-bench --help``, ``list``, bad input).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pope-bench")
except PackageNotFoundError:  # a source tree that was not installed
    __version__ = "0.0.0+local"

__all__ = ["PopeBenchConfig", "PopeBenchForCausalLM", "__version__"]


def __getattr__(name: str):
    """PEP 562 lazy exports: the model classes load torch and transformers (seconds)."""
    if name in ("PopeBenchConfig", "PopeBenchForCausalLM"):
        from pope_bench.models import native

        return getattr(native, name)
    raise AttributeError(f"module 'pope_bench' has no attribute {name!r}")
