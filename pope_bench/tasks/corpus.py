"""What tasks that read a corpus's documents share: the documents of ``params.corpus`` /
``params.split`` (loaded once, lazily — never at import or registry time), their checksum
for the run manifest, and the domain they belong to (``params.domain``, text by default)."""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from pope_bench.data.sources import documents_checksum, load_documents
from pope_bench.core.schema import loader_check
from pope_bench.tasks.base import TaskParams


class CorpusParams(TaskParams):
    """Params of a task that reads a corpus's documents."""

    corpus: str
    #: the corpus's split (held-out documents: test)
    split: str = "test"
    #: which models suit the task: text, music, dna
    domain: Literal["text", "music", "dna"] = "text"

    @field_validator("corpus")
    @classmethod
    def _known_corpus(cls, value: str) -> str:
        from pope_bench.data.sources import check_corpus_name

        return loader_check(check_corpus_name, value)


class CorpusDocuments:
    """Mixin for a :class:`~pope_bench.tasks.base.TaskType` whose Params extend :class:`CorpusParams`."""

    _docs = None

    @property
    def domain(self) -> str:
        return self.params.domain

    def documents(self):
        if self._docs is None:
            self._docs = load_documents(self.params.corpus, self.params.split)
        return self._docs

    def data_checksums(self):
        return {self.params.corpus: documents_checksum(self.documents())}
