"""The configuration of pope-bench's native models: a GPT-2-style pre-norm decoder with
RMSNorm (all paper models, §2) whose positional encoding is a field."""

from __future__ import annotations

from transformers import PretrainedConfig

from pope_bench.core.errors import BadInput
from pope_bench.encodings import (
    NoFields,
    RoPE,
    Scaling,
    check_scaling,
    field_owners,
    get_encoding,
    origin,
    parse_fields,
)


class PopeBenchConfig(PretrainedConfig):
    """Fields beyond the usual transformer sizes:

    pe: a registered encoding (``pope-bench list encodings``); the encoding's own fields
    (its ``Fields``: e.g. ``pe_base``, the frequency base, 10,000 in the paper, and PoPE's
    ``delta_init``, ``zero`` for language or ``uniform`` for diagnostics, music, DNA) are
    flat keys beside the others, filled with their defaults; pe_scaling: an eval-time rule
    from :mod:`pope_bench.encodings.frequencies` (``{"type": "yarn", "factor": 4}``), for
    encodings with rotary frequencies, or None; train_length: the context the model was
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
    pe: str = RoPE.name
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
        self._take_encoding_fields(kwargs)
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
        if self.hidden_size % self.num_attention_heads:
            raise BadInput(
                f"config field hidden_size={self.hidden_size} must be divisible by "
                f"num_attention_heads={self.num_attention_heads}"
            )
        get_encoding(self.pe).check_shape(self.head_dim, self.num_attention_heads)
        if not 0.0 <= float(self.dropout) < 1.0:
            raise BadInput(f"config field dropout must be in [0, 1), got {self.dropout!r}")
        check_scaling(self.pe, self.pe_scaling)
        self.scaling()  # parses (and so validates) pe_scaling

    def _take_encoding_fields(self, kwargs: dict) -> None:
        """Move the encodings' keys out of ``kwargs``: those of ``pe`` are validated and
        set (defaults filled, so config.json records them); another encoding's key is an
        error unless it holds that encoding's default (configs saved before encodings were
        plugins recorded PoPE's ``delta_init`` on every model)."""
        try:
            encoding = get_encoding(self.pe)
        except BadInput as e:
            raise BadInput(f"config field pe: {e}") from None
        own = {key: kwargs.pop(key) for key in list(kwargs) if key in encoding.Fields.model_fields}
        for key, owners in field_owners().items():
            if key in kwargs:
                value = kwargs.pop(key)
                default = get_encoding(owners[0]).Fields.model_fields[key].default
                if value != default:
                    packages = ", ".join(dict.fromkeys(origin(owner) for owner in owners))
                    raise BadInput(f"config field {key} belongs to pe {' / '.join(owners)} (package {packages}), "
                                   f"not {self.pe!r}; remove it")
        for key, value in parse_fields(self.pe, own).model_dump().items():
            setattr(self, key, value)

    def encoding_fields(self) -> NoFields:
        """The encoding's typed fields, read from this config."""
        cls = get_encoding(self.pe)
        return parse_fields(self.pe, {key: getattr(self, key) for key in cls.Fields.model_fields})

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def scaling(self) -> Scaling | None:
        return Scaling.parse(self.pe_scaling, self.train_length)

    @property
    def scaling_label(self) -> str:
        scaling = self.scaling()
        return scaling.label() if scaling else "none"
