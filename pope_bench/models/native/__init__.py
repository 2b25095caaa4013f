"""Native models, registered with the transformers Auto classes on import."""

from transformers import AutoConfig, AutoModelForCausalLM

from pope_bench.models.native.configuration import PopeBenchConfig
from pope_bench.models.native.model import PopeBenchForCausalLM, PopeBenchModel

AutoConfig.register(PopeBenchConfig.model_type, PopeBenchConfig, exist_ok=True)
AutoModelForCausalLM.register(PopeBenchConfig, PopeBenchForCausalLM, exist_ok=True)

__all__ = ["PopeBenchConfig", "PopeBenchForCausalLM", "PopeBenchModel"]
