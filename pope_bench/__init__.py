"""pope-bench: length-extrapolation benchmarks for positional encodings (RoPE, PoPE, NoPE).

Importing the package registers the native models with ``AutoConfig`` and
``AutoModelForCausalLM``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pope-bench")
except PackageNotFoundError:  # a source tree that was not installed
    __version__ = "0.0.0+local"

from .modeling import PopeBenchConfig, PopeBenchForCausalLM  # noqa: E402

__all__ = ["PopeBenchConfig", "PopeBenchForCausalLM", "__version__"]
