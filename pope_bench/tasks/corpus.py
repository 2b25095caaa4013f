"""What tasks that read a corpus's documents share: the documents of ``params.corpus`` /
``params.split`` — a corpus name, or the user's own files or hub dataset
(:mod:`pope_bench.data.user_corpus`) — loaded once, lazily (never at import or registry
time), their checksum for the run manifest, and the domain they belong to
(``params.domain``, text by default)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Tag, field_validator

from pope_bench.core.schema import loader_check
from pope_bench.data.sources import documents_checksum, load_documents
from pope_bench.data.user_corpus import HubCorpus, LocalCorpus
from pope_bench.tasks.base import TaskParams


def _corpus_kind(value) -> str:
    if isinstance(value, (str, LocalCorpus, HubCorpus)):
        return {str: "name", LocalCorpus: "path", HubCorpus: "hub"}[type(value)]
    return "hub" if isinstance(value, dict) and "hub" in value else "path"


class CorpusParams(TaskParams):
    """Params of a task that reads a corpus's documents."""

    #: a corpus name (kjv, pg19, …), {path: FILE-OR-FOLDER[, text_field: F]} or {hub: ID, …}
    corpus: Annotated[Annotated[str, Tag("name")] | Annotated[LocalCorpus, Tag("path")]
                      | Annotated[HubCorpus, Tag("hub")], Discriminator(_corpus_kind)]
    #: the named corpus's split (held-out documents: test)
    split: str = "test"
    #: which models suit the task: text, music, dna
    domain: Literal["text", "music", "dna"] = "text"

    @field_validator("corpus")
    @classmethod
    def _known_corpus(cls, value):
        from pope_bench.data.sources import check_corpus_name

        return loader_check(check_corpus_name, value) if isinstance(value, str) else value


class CorpusDocuments:
    """Mixin for a :class:`~pope_bench.tasks.base.TaskType` whose Params extend :class:`CorpusParams`."""

    _docs = None

    @property
    def domain(self) -> str:
        return self.params.domain

    @property
    def corpus_label(self) -> str:
        """The corpus in messages, seeds and the manifest: its name, or where the files are."""
        corpus = self.params.corpus
        return corpus if isinstance(corpus, str) else corpus.label

    def documents(self):
        if self._docs is None:
            corpus = self.params.corpus
            self._docs = load_documents(corpus, self.params.split) if isinstance(corpus, str) else corpus.documents()
        return self._docs

    def data_checksums(self):
        return {self.corpus_label: documents_checksum(self.documents())}
