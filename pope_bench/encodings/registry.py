"""The encoding registry: every positional encoding by name, built-in or plugin.

An encoding registers itself with the ``@register_encoding`` decorator beside its class
(the lm-evaluation-harness style). Built-ins are the modules of this package, imported on
first lookup; a third-party package adds encodings through the entry-point group
``pope_bench.encodings`` (the entry point names the module or class; importing it runs
the decorator). Nothing outside ``pope_bench/encodings`` names an encoding: config
validation, model construction, the model registry, plots, tables and analyses all ask
this module.
"""

from __future__ import annotations

import importlib
import pkgutil
import types
from importlib import metadata
from typing import NamedTuple

from pydantic import ValidationError

from pope_bench.core.errors import BadInput, closest
from pope_bench.encodings.base import NoFields, PositionalEncoding
from pope_bench.encodings.frequencies import Scaling

ENTRY_POINT_GROUP = "pope_bench.encodings"
BUILT_IN = "pope-bench (built-in)"

_REGISTRY: dict[str, type[PositionalEncoding]] = {}
_ORIGINS: dict[str, str] = {}
_loaded = False


def register_encoding(cls: type[PositionalEncoding]) -> type[PositionalEncoding]:
    """Class decorator: make ``cls`` available as ``pe: <cls.name>``."""
    if not (isinstance(cls, type) and issubclass(cls, PositionalEncoding)):
        raise TypeError(f"@register_encoding decorates a PositionalEncoding subclass, not {cls!r}")
    if not cls.name or not cls.label:
        raise BadInput(f"encoding class {cls.__module__}.{cls.__qualname__} (package {origin_of(cls)}) must set "
                       f"`name` and `label`")
    known = _REGISTRY.get(cls.name)
    if known is not None and _qualname(known) != _qualname(cls):
        raise BadInput(f"two encodings are named {cls.name!r}: {_qualname(known)} (package {_ORIGINS[cls.name]}) "
                       f"and {_qualname(cls)} (package {origin_of(cls)}); uninstall one")
    _REGISTRY[cls.name] = cls
    _ORIGINS[cls.name] = origin_of(cls)
    return cls


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def origin_of(cls: type) -> str:
    """``pope-bench (built-in)`` or the distribution that installs ``cls``'s top-level package."""
    top = cls.__module__.split(".")[0]
    if top == "pope_bench":
        return BUILT_IN
    return ", ".join(metadata.packages_distributions().get(top, [top]))


def _load() -> None:
    """Import the built-in modules, then every installed plugin, once (a failure is raised
    again at the next lookup, not remembered as success)."""
    global _loaded
    if _loaded:
        return
    for module in pkgutil.iter_modules(importlib.import_module(__package__).__path__):
        importlib.import_module(f"{__package__}.{module.name}")
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        package = entry.dist.name if entry.dist else entry.value
        try:
            loaded = entry.load()
        except BadInput:
            raise
        except (Exception, SystemExit) as e:  # any failure of third-party code, sys.exit() included
            raise BadInput(f"encoding plugin {entry.name!r} of package {package!r} failed to import "
                           f"({type(e).__name__}: {e}); fix or uninstall {package}") from None
        for cls in _encoding_classes(loaded, f"encoding plugin {entry.name!r} of package {package!r}"):
            register_encoding(cls)
    _loaded = True


def _encoding_classes(loaded, what: str) -> list[type[PositionalEncoding]]:
    """What an entry point names: an encoding class, or a module defining some (listed
    here too, so that a module imported before — whose decorators ran then — registers).
    Anything else (a function, an instance, another class) is one line naming the plugin."""
    if isinstance(loaded, type) and issubclass(loaded, PositionalEncoding) and loaded.name:
        return [loaded]
    if isinstance(loaded, types.ModuleType):
        return [value for value in vars(loaded).values()
                if isinstance(value, type) and issubclass(value, PositionalEncoding) and value.name
                and value.__module__ == loaded.__name__]
    raise BadInput(f"{what} names {loaded!r}, which is neither a PositionalEncoding subclass with a name nor a "
                   "module defining some; point the entry point at the class (package.module:Class)")


def reload() -> None:
    """Forget the plugins and look for them again on the next lookup (after installing or
    removing one in a running process)."""
    global _loaded
    for name in [name for name, source in _ORIGINS.items() if source != BUILT_IN]:
        del _REGISTRY[name], _ORIGINS[name]
    _loaded = False


def encodings() -> dict[str, type[PositionalEncoding]]:
    """Every registered encoding class by name, in display order."""
    _load()
    return dict(sorted(_REGISTRY.items(), key=lambda item: (item[1].order, item[0])))


def origin(name: str) -> str:
    get_encoding(name)
    return _ORIGINS[name]


def get_encoding(name: str) -> type[PositionalEncoding]:
    """The class registered as ``name``, or a BadInput listing the known names."""
    known = encodings()
    if name not in known:
        raise BadInput(f"unknown positional encoding {name!r}{closest(str(name), known)}; choose one of "
                       f"{', '.join(known)} (plugins register through the {ENTRY_POINT_GROUP!r} entry point)")
    return known[name]


def field_owners() -> dict[str, list[str]]:
    """Config key → the encodings that declare it."""
    owners: dict[str, list[str]] = {}
    for name, cls in encodings().items():
        for key in cls.Fields.model_fields:
            owners.setdefault(key, []).append(name)
    return owners


def parse_fields(name: str, values: dict, where: str = "config field") -> NoFields:
    """``values`` (config keys → values, only the encoding's own) as ``name``'s typed fields."""
    cls = get_encoding(name)
    try:
        return cls.Fields.model_validate(values)
    except ValidationError as e:
        error = e.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        raise BadInput(f"{where} {key}={values.get(key, error.get('input'))!r} for pe {name!r}: {error['msg']}") from None


def check_scaling(name: str, scaling) -> None:
    """BadInput unless eval-time RoPE scaling applies to ``name``."""
    if scaling and not get_encoding(name).rope_scaling:
        raise BadInput(f"rope_scaling (pe_scaling) does not apply to pe {name!r} (it has no rotary frequencies; "
                       f"package {origin(name)}); remove it")


def build_encoding(
    name: str, head_dim: int, num_heads: int, scaling: Scaling | None = None, **fields
) -> PositionalEncoding:
    """One attention layer's encoding module; ``fields`` are the encoding's config fields."""
    cls = get_encoding(name)
    check_scaling(name, scaling)
    cls.check_shape(head_dim, num_heads)
    return cls.build(head_dim, num_heads, parse_fields(name, fields), scaling)


class Appearance(NamedTuple):
    label: str
    color: str
    marker: str
    order: int


def appearance(pe: str) -> Appearance:
    """How figures and tables show encoding ``pe``; a results file may name an encoding
    that is not installed here, which is drawn in black under its own name, last."""
    cls = encodings().get(pe)
    if cls is None:
        return Appearance(str(pe), "black", "o", 1_000)
    return Appearance(cls.label, cls.color, cls.marker, cls.order)
