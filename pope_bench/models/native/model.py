"""pope-bench's native causal LM: a pre-norm decoder-only Transformer with RMSNorm
(GPT-2-style blocks as in all of the paper's models), as a Hugging Face ``PreTrainedModel``.

Read it in one sitting: embeddings → N × [x + Attn(RMSNorm(x)), x + MLP(RMSNorm(x))] →
RMSNorm → tied LM head. Only the attention's encoding differs between encodings.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.cache_utils import DynamicCache
from transformers.modeling_outputs import (
    BaseModelOutputWithPast,
    CausalLMOutputWithPast,
)

from pope_bench.encodings import PositionalEncoding, Scaling, check_scaling
from pope_bench.models.native.attention import Attention
from pope_bench.models.native.configuration import PopeBenchConfig


class MLP(nn.Module):
    def __init__(self, config: PopeBenchConfig):
        super().__init__()
        self.up = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.down = nn.Linear(config.intermediate_size, config.hidden_size, bias=False)

    def forward(self, x):
        return self.down(F.gelu(self.up(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, config: PopeBenchConfig, layer_idx: int):
        super().__init__()
        self.attn_norm = nn.RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.attn = Attention(config, layer_idx)
        self.mlp_norm = nn.RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.mlp = MLP(config)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x, positions, cache=None, padding_mask=None):
        x = x + self.drop(self.attn(self.attn_norm(x), positions, cache, padding_mask))
        return x + self.drop(self.mlp(self.mlp_norm(x)))


class PopeBenchPreTrainedModel(PreTrainedModel):
    config_class = PopeBenchConfig
    config: PopeBenchConfig
    base_model_prefix = "model"
    _no_split_modules = ["Block"]
    _supports_sdpa = True

    @torch.no_grad()
    def _init_weights(self, module):
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            if getattr(module, "_residual_out", False):  # GPT-2's scaled init of residual outputs
                std = std / math.sqrt(2 * self.config.num_hidden_layers)
            module.weight.normal_(0.0, std)
        elif isinstance(module, nn.Embedding):
            module.weight.normal_(0.0, std)
        elif isinstance(module, nn.RMSNorm):
            module.weight.fill_(1.0)
        elif isinstance(module, PositionalEncoding):
            module.reset_parameters()


class PopeBenchModel(PopeBenchPreTrainedModel):
    def __init__(self, config: PopeBenchConfig):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.drop = nn.Dropout(config.dropout)
        self.layers = nn.ModuleList(Block(config, i) for i in range(config.num_hidden_layers))
        self.norm = nn.RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        for block in self.layers:
            block.attn.out._residual_out = True
            block.mlp.down._residual_out = True
        self.post_init()

    def get_input_embeddings(self):
        return self.embed_tokens

    def set_input_embeddings(self, value):
        self.embed_tokens = value

    def forward(self, input_ids, attention_mask=None, position_ids=None, cache=None, use_cache=False):
        if use_cache and cache is None:
            cache = DynamicCache(config=self.config)
        if position_ids is None:
            past = cache.get_seq_length() if cache is not None else 0
            position_ids = torch.arange(past, past + input_ids.shape[1], device=input_ids.device)
        x = self.drop(self.embed_tokens(input_ids))
        for block in self.layers:
            x = block(x, position_ids, cache if use_cache else None, attention_mask)
        return BaseModelOutputWithPast(last_hidden_state=self.norm(x), cache=cache if use_cache else None)


class PopeBenchForCausalLM(PopeBenchPreTrainedModel, GenerationMixin):
    _tied_weights_keys = {"lm_head.weight": "model.embed_tokens.weight"}

    def __init__(self, config: PopeBenchConfig):
        super().__init__(config)
        self.model = PopeBenchModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def set_pe_scaling(self, spec: dict | None) -> None:
        """Apply (or remove, with None) an eval-time scaling rule such as
        ``{"type": "yarn", "factor": 4}`` to every layer; the weights stay as they are."""
        scaling = Scaling.parse(spec, self.config.train_length)  # validates before any change
        check_scaling(self.config.pe, scaling)
        self.config.pe_scaling = spec
        for block in self.model.layers:
            block.attn.encoding.set_scaling(scaling)

    def get_output_embeddings(self):
        return self.lm_head

    def set_output_embeddings(self, value):
        self.lm_head = value

    def forward(
        self,
        input_ids: torch.LongTensor,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        cache=None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        logits_to_keep: int = 0,
        past_key_values=None,
        **kwargs,
    ) -> CausalLMOutputWithPast:
        """Standard causal-LM forward; ``labels`` are shifted inside, −100 is ignored."""
        cache = cache if cache is not None else past_key_values
        use_cache = self.config.use_cache if use_cache is None else use_cache
        use_cache = use_cache and not self.training
        outputs = self.model(input_ids, attention_mask, position_ids, cache, use_cache)
        hidden, cache = outputs.last_hidden_state, outputs.cache
        if logits_to_keep:
            hidden = hidden[:, -logits_to_keep:]
        logits = self.lm_head(hidden)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(
                logits[:, :-1].flatten(0, 1).float(), labels[:, 1:].flatten(), ignore_index=-100
            )
        return CausalLMOutputWithPast(loss=loss, logits=logits, cache=cache if use_cache else None)
