"""Corpus names → documents, by the hub route when asked and reachable, else offline.

Hub corpora (``pg19``, ``openwebtext``) go through ``datasets.load_dataset`` — the route
real users take; offline corpora come from packages (:mod:`pope_bench.data.corpora`; music:
``jsb``, :mod:`pope_bench.data.music`; DNA: ``grch37_chrx``, :mod:`pope_bench.data.dna`).
"""

from __future__ import annotations

import hashlib

from pope_bench.core.errors import BadInput, closest
from pope_bench.data.corpora import OFFLINE_CORPORA, Document, documents
from pope_bench.data.dna import chrx_documents
from pope_bench.data.hub import load_hub_dataset, require_hub
from pope_bench.data.music import jsb_documents

HUB_CORPORA = {
    # name: (dataset id, config, split name for our "test", text field, title field)
    "pg19": ("deepmind/pg19", None, "test", "text", "short_book_title"),
    "openwebtext": ("Skylion007/openwebtext", None, "train", "text", None),
}


#: packaged corpora of other domains: name -> loader(split) yielding documents in order
DOMAIN_CORPORA = {"jsb": jsb_documents, "grch37_chrx": chrx_documents}


def corpus_names() -> list[str]:
    return [*OFFLINE_CORPORA, *DOMAIN_CORPORA, *HUB_CORPORA]


def check_corpus_name(corpus: str) -> str:
    if corpus not in corpus_names():
        raise BadInput(f"unknown corpus {corpus!r}{closest(corpus, corpus_names())}; known: {', '.join(corpus_names())}")
    return corpus


def load_documents(corpus: str, split: str = "test", limit: int | None = None) -> list[Document]:
    """The split's documents; with ``limit``, only its first ones up to that many characters
    in all (whole documents) — a lazily read corpus (the genome) is then read only so far."""
    if corpus in DOMAIN_CORPORA:
        docs = DOMAIN_CORPORA[corpus](split)
    elif corpus in OFFLINE_CORPORA:
        docs = documents(corpus, split)
    elif corpus in HUB_CORPORA:
        docs = _hub_documents(corpus, split)
    else:
        check_corpus_name(corpus)
    chosen, size = [], 0
    for doc in docs:
        if limit is not None and size >= limit:
            break
        chosen.append(doc)
        size += len(doc.text)
    return chosen


def _hub_documents(corpus: str, split: str) -> list[Document]:
    repo, config, hub_split, text_field, title_field = HUB_CORPORA[corpus]
    needed_by, hint = f"corpus {corpus!r}", "use an offline corpus such as perplexity_text"
    require_hub(needed_by, hint, repo)
    data = load_hub_dataset(repo, config, hub_split if split == "test" else split, needed_by, hint)
    return [
        Document(str(row[title_field]) if title_field else f"{corpus}-{i}", row[text_field], split)
        for i, row in enumerate(data)
    ]


def documents_checksum(docs: list[Document]) -> str:
    h = hashlib.sha256()
    for doc in docs:
        h.update(doc.name.encode())
        h.update(doc.text.encode())
    return h.hexdigest()[:16]
