"""The configuration of pope-bench's native models: a GPT-2-style pre-norm decoder with
RMSNorm (all paper models, §2) whose positional encoding is a field."""

from __future__ import annotations

from transformers import PretrainedConfig

from ..encodings import DELTA_INITS, ENCODINGS, Scaling
from ..errors import BadInput


class PopeBenchConfig(PretrainedConfig):
    """Fields beyond the usual transformer sizes:

    pe: ``rope`` | ``pope`` | ``nope``; pe_base: the frequency base (10,000 in the paper);
    delta_init: PoPE's δ initialisation, ``zero`` (language) or ``uniform`` (diagnostics,
    music, DNA); pe_scaling: an eval-time rule from :mod:`pope_bench.encodings.frequencies`
    (``{"type": "yarn", "factor": 4}``) or None; train_length: the context the model was
    trained on (the 1× of every length sweep); tokenizer: the name of the vocabulary the
    ids mean (``bytes``, ``gpt2``, ``chars``, ``jsb``, ``dna6``), which pairs the model with
    tasks.
    """

    model_type = "pope_bench"

    vocab_size: int = 256
    hidden_size: int = 256
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    intermediate_size: int | None = None
    pe: str = "rope"
    pe_base: float = 10_000.0
    delta_init: str = "zero"
    pe_scaling: dict | None = None
    dropout: float = 0.0
    rms_norm_eps: float = 1e-6
    initializer_range: float = 0.02
    train_length: int = 256
    max_length: int | None = None
    tokenizer: str = "bytes"
    tie_word_embeddings: bool = True
    use_cache: bool = True
    bos_token_id: int | None = None
    eos_token_id: int | None = None
    pad_token_id: int | None = None

    def __post_init__(self, **kwargs):
        self.validate_fields()
        if self.intermediate_size is None:
            self.intermediate_size = 4 * self.hidden_size
        super().__post_init__(**kwargs)

    def validate_fields(self) -> None:
        """One line naming the field and its allowed values for every impossible setting."""
        positive = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "train_length")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise BadInput(f"config field {name} must be a positive integer, got {value!r}")
        if self.pe not in ENCODINGS:
            raise BadInput(f"config field pe={self.pe!r} is not one of {', '.join(ENCODINGS)}")
        if self.delta_init not in DELTA_INITS:
            raise BadInput(f"config field delta_init={self.delta_init!r} is not one of {', '.join(DELTA_INITS)}")
        if self.hidden_size % self.num_attention_heads:
            raise BadInput(
                f"config field hidden_size={self.hidden_size} must be divisible by "
                f"num_attention_heads={self.num_attention_heads}"
            )
        if self.pe == "rope" and self.head_dim % 2:
            raise BadInput(f"RoPE needs an even head dim (hidden_size / num_attention_heads), got {self.head_dim}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise BadInput(f"config field dropout must be in [0, 1), got {self.dropout!r}")
        if not float(self.pe_base) > 1.0:
            raise BadInput(f"config field pe_base must be > 1, got {self.pe_base!r}")
        if self.pe_scaling is not None and self.pe == "nope":
            raise BadInput("config field pe_scaling does not apply to pe 'nope'; remove it")
        self.scaling()  # parses (and so validates) pe_scaling

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def scaling(self) -> Scaling | None:
        return Scaling.from_dict(self.pe_scaling, self.train_length)

    @property
    def scaling_label(self) -> str:
        scaling = self.scaling()
        return scaling.label() if scaling else "none"
