"""``--model`` values that name a Hugging Face hub model: ``gpt2``, ``org/name``,
``org/name@revision``.

Any name that is neither a registry entry nor a folder is taken as a hub id. Its form is
checked first (huggingface_hub's own rules), then whether the hub answers at all (a TCP
connect of a few seconds, or ``HF_HUB_OFFLINE``) — so an offline machine gets one line
saying so and how to use a local copy, instead of transformers' half a minute of retries
followed by a misleading "unknown model". Only then is the model's config fetched (no
weights) for its context length and positional encoding.
"""

from __future__ import annotations

from ..data.hub import hub_endpoint, hub_offline, hub_reachable
from ..errors import BadInput, closest


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
    raise BadInput(f"model {name!r} is not in the registry{closest(name, known)} or a folder, and the Hugging Face "
                   f"hub is unreachable ({why}); download it elsewhere (`hf download {name.partition('@')[0]}`) "
                   "and pass its folder to --model, or add it to checkpoints.yaml with path:")


def hub_model_facts(name: str, known=()) -> dict:
    """ModelEntry fields for a hub id: hf, revision, pe, train_length (and max_length for
    learned absolute positions, which cannot go past their table)."""
    repo, revision = parse_hub_id(name, known)
    require_reachable_hub(name, known)
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(repo, revision=revision)
    except (OSError, ValueError) as e:
        raise BadInput(f"model {name!r}: the hub has no usable model there ({str(e).splitlines()[0]}); "
                       "check the id and revision, or see `pope-bench list models`") from None
    context = int(getattr(config, "max_position_embeddings", None) or 2048)
    rotary = bool(getattr(config, "rope_parameters", None) or getattr(config, "rope_theta", None))
    facts = {"hf": repo, "revision": revision, "pe": "rope" if rotary else "absolute", "train_length": context}
    if not rotary:
        facts["max_length"] = context
    return facts
