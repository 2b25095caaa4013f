"""Tokenizers by name. A native checkpoint records the name in its config (``tokenizer``),
and a task names the one its data needs, so the pairing can be checked before any work.

``bytes``: UTF-8 bytes, vocabulary 256 (the bundled text models).
``chars``: the diagnostic tasks' character vocabulary (see :mod:`pope_bench.tasks.indexing`).
``gpt2``: GPT-2's BPE, vocabulary 50,257 (:mod:`pope_bench.data.gpt2_tokenizer`).
``jsb``: JSB-chorale pitch tokens, vocabulary 90 (:mod:`pope_bench.data.music`).
``dna6``: Nucleotide-Transformer 6-mers, vocabulary 4,107 (:mod:`pope_bench.data.dna`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

from pope_bench.core.errors import BadInput, closest
from pope_bench.data.dna import Dna6Tokenizer
from pope_bench.data.gpt2_tokenizer import gpt2_tokenizer
from pope_bench.data.music import JsbTokenizer


@dataclass(frozen=True)
class ByteTokenizer:
    name: str = "bytes"
    vocab_size: int = 256

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids) -> str:
        return bytes(int(i) for i in ids).decode("utf-8", errors="replace")

    def bytes_per_token(self, text: str) -> float:
        return 1.0


@dataclass(frozen=True)
class CharTokenizer:
    """A fixed character vocabulary; unknown characters are an error, not a silent UNK."""

    name: str
    alphabet: str

    @property
    def vocab_size(self) -> int:
        return len(self.alphabet)

    def encode(self, text: str) -> list[int]:
        index = {c: i for i, c in enumerate(self.alphabet)}
        try:
            return [index[c] for c in text]
        except KeyError as e:
            raise BadInput(f"character {e.args[0]!r} is not in the {self.name!r} vocabulary") from None

    def decode(self, ids) -> str:
        return "".join(self.alphabet[int(i)] for i in ids)


LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CHARS = LETTERS + "0123456789,+-=:;| "

TOKENIZERS = {
    "bytes": ByteTokenizer,
    "chars": lambda: CharTokenizer("chars", CHARS),
    "gpt2": gpt2_tokenizer,
    "jsb": JsbTokenizer,
    "dna6": Dna6Tokenizer,
}


def check_tokenizer_name(name: str) -> str:
    if name not in TOKENIZERS:
        raise BadInput(f"unknown tokenizer {name!r}{closest(name, TOKENIZERS)}; known: {', '.join(TOKENIZERS)}")
    return name


def get_tokenizer(name: str):
    return TOKENIZERS[check_tokenizer_name(name)]()


def encode_text(tokenizer, text: str) -> list[int]:
    """Token ids of ``text`` for a pope-bench or a transformers tokenizer (no BOS/EOS added)."""
    if hasattr(tokenizer, "backend_tokenizer") or hasattr(tokenizer, "add_special_tokens"):
        return tokenizer.encode(text, add_special_tokens=False)
    return tokenizer.encode(text)


def encode_with_byte_ends(tokenizer, text: str) -> tuple[list[int], list[int] | None]:
    """Token ids of ``text`` and, for each token, the offset in ``text.encode()`` where it
    ends — so the tokens ``ids[a:b]`` cover exactly ``ends[b-1] - ends[a-1]`` bytes of the
    text (bits per byte). ``None`` when the tokenizer cannot say (only the byte tokenizer
    and transformers' fast tokenizers, through their offset mappings, can).

    Decoding single ids would not do: a byte-level BPE token that holds part of a UTF-8
    character decodes to U+FFFD, 3 bytes. A character split over several tokens is
    attributed to the last of them, so contiguous spans always add up to the text's bytes.
    """
    if isinstance(tokenizer, ByteTokenizer):
        ids = tokenizer.encode(text)
        return ids, list(range(1, len(ids) + 1))
    if not getattr(tokenizer, "is_fast", False):
        return encode_text(tokenizer, text), None
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ends = list(accumulate((end for _, end in encoded["offset_mapping"]), max, initial=0))[1:]
    if not text.isascii():  # character offsets → byte offsets
        byte_at = list(accumulate((len(c.encode("utf-8")) for c in text), initial=0))
        ends = [byte_at[end] for end in ends]
    return encoded["input_ids"], ends
