"""What a model *is*, as opposed to what it is called: the one fingerprint of its weights
that cell keys, the planner's duplicate and name-clash checks, the worker's loaded-model
cache and Ray's task groups all use.

A display name (a registry key, a folder's base name) is only a label: two folders both
called ``ck`` are two models, and one checkpoint reached by its registry name and by its
folder is one. So identity is, for a native checkpoint, the sha256 of its config and
weights (:func:`~.checkpoints.fingerprint_files`); for a hub model, its resolved source
(local folder or hub id) and revision. A loaded model adds the scaling rule applied at
load time (:func:`load_key`).
"""

from __future__ import annotations

import hashlib
import json

from pope_bench.models.checkpoints import ModelEntry, fingerprint_files, read_config


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def weights_fingerprint(entry: ModelEntry) -> str:
    """The model's identity (16 hex digits): its weights' hash for a native checkpoint,
    its resolved source and revision for a hub model (whose weights transformers fetches)."""
    if entry.path is not None and read_config(entry.path).get("model_type") == "pope_bench":
        return fingerprint_files(entry.path)
    source = str(entry.path.resolve()) if entry.path is not None else entry.hf
    return _digest([source, entry.revision])[:16]


def load_key(fingerprint: str, scaling: dict | None) -> str:
    """One loaded model: its weights and the concrete scaling rule applied at this length
    (a ``factor: auto`` variant at 1× loads exactly its base)."""
    return fingerprint if not scaling else f"{fingerprint}-{_digest(scaling)[:8]}"
