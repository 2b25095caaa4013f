"""torch, imported on first use, for modules that define task types.

``pope-bench list tasks`` and every input check build task types (their metrics, domain,
params) but never run a model; importing torch for that took seconds. A task module
writes ``torch = lazy_module("torch")`` instead of ``import torch`` (annotations stay
strings under ``from __future__ import annotations``) and :func:`no_grad` /
:func:`inference_mode` instead of ``@torch.no_grad()``, which would import torch when
the function is defined.
"""

from __future__ import annotations

import functools
import importlib


class lazy_module:  # noqa: N801 — stands in for a module name
    """A module imported at its first attribute access."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)


def _under(context: str):
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            import torch

            with getattr(torch, context)():
                return fn(*args, **kwargs)

        return wrapper

    return decorate


#: ``@torch.no_grad()``, entered when the function is called
no_grad = _under("no_grad")
#: ``@torch.inference_mode()``, entered when the function is called
inference_mode = _under("inference_mode")
