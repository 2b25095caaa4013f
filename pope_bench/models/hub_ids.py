"""``--model`` values that name a Hugging Face hub model: ``gpt2``, ``org/name``,
``org/name@revision``.

Any name that is neither a registry entry nor a folder is taken as a hub id. Its form is
checked first (huggingface_hub's own rules), then whether the hub answers at all (a TCP
connect of a few seconds, or ``HF_HUB_OFFLINE``) — so an offline machine gets one line
saying so and how to use a local copy, instead of transformers' half a minute of retries
followed by a misleading "unknown model". Only then is the model's ``config.json``
fetched (no weights, no transformers import) for its context length and whether its
positions are rotary; a local folder of a hub model is read the same way.
"""

from __future__ import annotations

import json
from pathlib import Path

from pope_bench.core.errors import BadInput, closest
from pope_bench.data.hub import hub_endpoint, hub_offline, hub_reachable

#: config.json keys that hold the context length, by architecture family
CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "n_ctx", "seq_length")
#: config.json keys that only rotary-embedding models have
ROTARY_KEYS = ("rope_parameters", "rope_theta", "rope_scaling", "rotary_dim", "rotary_pct", "rotary_emb_base",
               "partial_rotary_factor")


def parse_hub_id(name: str, known=()) -> tuple[str, str | None]:
    """(repo, revision) of ``org/name@revision``; BadInput if it cannot be a hub id.
    ``known`` (registry names) feeds the "did you mean" hint of that error."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    repo, at, revision = name.partition("@")
    try:
        if at and not revision.strip():
            raise HFValidationError("the revision after @ is empty")
        validate_repo_id(repo)
    except HFValidationError as e:
        raise BadInput(f"model {name!r} is not a registry name{closest(name, known)}, an existing folder, "
                       f"or a hub id of the form name, org/name or org/name@revision ({e})") from None
    return repo, revision or None


def require_reachable_hub(name: str, known=()) -> None:
    """One line, within seconds, when the hub cannot be asked about ``name``."""
    if hub_reachable():
        return
    why = "HF_HUB_OFFLINE is set" if hub_offline() else f"{hub_endpoint()} does not answer"
    hint = closest(name, known)
    if hint:  # a misspelled registry name: suggest the name, not downloading the typo
        raise BadInput(f"model {name!r} is not in the registry{hint} or a folder (and the Hugging Face hub is "
                       f"unreachable, {why}, so it cannot be a hub id here); see `pope-bench list models`")
    raise BadInput(f"model {name!r} is not in the registry{closest(name, known)} or a folder, and the Hugging Face "
                   f"hub is unreachable ({why}); download it elsewhere (`hf download {name.partition('@')[0]}`) "
                   "and pass its folder to --model, or add it to checkpoints.yaml with path:")


def config_facts(config: dict) -> dict:
    """ModelEntry fields from a Hugging Face ``config.json``: the context length as the
    train length, and whether positions are rotary (``rope``) or a learned / absolute
    table (``absolute``, which cannot run past its length, so that is also its max)."""
    context = next((int(config[k]) for k in CONTEXT_KEYS if config.get(k)), 2048)
    rotary = any(config.get(k) for k in ROTARY_KEYS)
    return {"pe": "rope" if rotary else "absolute", "train_length": context} | ({} if rotary else {"max_length": context})


def hub_model_facts(name: str, known=()) -> dict:
    """ModelEntry fields for a hub id, from its ``config.json`` alone (no weights)."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError

    repo, revision = parse_hub_id(name, known)
    require_reachable_hub(name, known)
    try:
        config = json.loads(Path(hf_hub_download(repo, "config.json", revision=revision)).read_text())
    except (HfHubHTTPError, OSError, ValueError) as e:
        raise BadInput(f"model {name!r}: the hub has no usable model there ({type(e).__name__}: "
                       f"{str(e).splitlines()[0] if str(e) else ''}); check the id and revision{closest(name, known)}, "
                       "or see `pope-bench list models`") from None
    return {"hf": repo, "revision": revision, **config_facts(config)}
