"""What tasks that read a corpus's documents share: the documents of ``params.corpus`` /
``params.split`` (loaded once, lazily — never at import or registry time), their checksum
for the run manifest, and the domain they belong to (``params.domain``, text by default)."""

from __future__ import annotations

from ..data.sources import documents_checksum, load_documents


class CorpusDocuments:
    """Mixin for a :class:`~pope_bench.tasks.base.TaskType` with ``corpus`` in its params."""

    _docs = None

    @property
    def domain(self) -> str:
        return self.params.get("domain", "text")

    def documents(self):
        if self._docs is None:
            self._docs = load_documents(self.params["corpus"], self.params.get("split", "test"))
        return self._docs

    def data_checksums(self):
        return {self.params["corpus"]: documents_checksum(self.documents())}
