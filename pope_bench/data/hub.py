"""The Hugging Face hub route shared by corpora and evaluation sets: a fast reachability
check, and ``datasets.load_dataset`` with its many failure types turned into one line."""

from __future__ import annotations

import os
import socket
from functools import cache
from urllib.parse import urlparse

from pope_bench.core.errors import BadInput


def hub_endpoint() -> str:
    """The hub URL that huggingface_hub talks to (``HF_ENDPOINT`` overrides it)."""
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def hub_offline() -> bool:
    """Whether the user switched the hub off (``HF_HUB_OFFLINE`` / ``HF_DATASETS_OFFLINE``)."""
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes") for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


@cache
def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face hub answers (a TCP connect, so an offline machine learns it
    in seconds instead of through ``datasets``' minute of retries); honours HF_HUB_OFFLINE."""
    if hub_offline():
        return False
    url = urlparse(hub_endpoint())
    try:
        socket.create_connection((url.hostname, url.port or (80 if url.scheme == "http" else 443)), timeout).close()
    except OSError:
        return False
    return True


def require_hub(needed_by: str, hint: str, repo: str | None = None) -> None:
    """A one-line BadInput, before any ``datasets`` call, when the hub does not answer."""
    if not hub_reachable():
        where = f" ({repo})" if repo else ""
        raise BadInput(f"{needed_by} needs the Hugging Face hub{where}, which is not reachable; {hint}")


def load_hub_dataset(repo: str, config: str | None, split: str, needed_by: str, hint: str = ""):
    """``datasets.load_dataset(repo, config, split=split)``, or a one-line BadInput naming
    what needed it (``needed_by``) and what to do instead (``hint``)."""
    import datasets

    try:
        return datasets.load_dataset(repo, config, split=split)
    except Exception as e:  # the hub raises many types (ConnectionError, HfHubHTTPError, ...)
        detail = str(e).splitlines()[0] if str(e) else ""
        raise BadInput(f"{needed_by} needs the Hugging Face hub ({repo}), which failed: {type(e).__name__}: "
                       f"{detail}{'; ' + hint if hint else ''}") from None
