"""The one way an input file becomes typed data.

Every input file kind (registry entry, task definition and each task type's params,
recipe, figure spec, suite) is a pydantic model derived from :class:`StrictModel`: it
owns its fields, types, ranges and defaults in one place and refuses unknown keys. This
module reads YAML (:func:`read_yaml`) and turns the first validation problem into one
:class:`~pope_bench.core.errors.BadInput` line that names the file, the key and — for an
unknown key — the closest valid one (:func:`validate`).
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path

import yaml
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from pope_bench.core.errors import BadInput, closest

#: names that become file names or row keys: a letter or digit first, then letters,
#: digits, ``_ . -``; no path separators, no ``..``
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class StrictModel(BaseModel):
    """Base of every input schema: unknown keys are errors, values must have their field's
    type (``"lots"`` is no integer; a numeric string such as ``"15"`` or ``--set``'s
    ``2e-4`` is read as the number it spells), instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _identifier(name: str) -> str:
    if not isinstance(name, str) or not IDENTIFIER.match(name) or ".." in name:
        raise ValueError(f"{name!r} is not a valid name: use letters, digits, '_', '.', '-' "
                         "(starting with a letter or digit, no '..', at most 128 characters)")
    return name


#: a schema field whose value becomes a file name or a row key
Identifier = Annotated[str, AfterValidator(_identifier)]


def check_identifier(name: str, what: str) -> str:
    """``name`` if it is safe as a file name and a row key, else a one-line error."""
    try:
        return _identifier(name)
    except ValueError as e:
        raise BadInput(f"{what} {e}") from None


def loader_check(check, value: str) -> str:
    """A field validator's body that asks the loader's own name check (``check_corpus_name``,
    ``check_tokenizer_name``, …), so the schema never keeps a copy of the valid names: the
    check's one-line BadInput becomes the ValueError pydantic reports at the field."""
    try:
        return check(value)
    except BadInput as e:
        raise ValueError(str(e)) from None


def read_yaml(path: Path, what: str):
    """A YAML file's content (``yaml.safe_load``); unreadable, non-UTF-8 or invalid YAML is
    one line that says which file and what to fix."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise BadInput(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise BadInput(f"{what} {path} is a folder, not a YAML file") from None
    except OSError as e:
        raise BadInput(f"cannot read {what} {path} ({e.strerror})") from None
    except UnicodeDecodeError as e:
        raise BadInput(f"{what} {path} is not UTF-8 text (byte {e.start}); save it as UTF-8") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        first = " ".join(str(e).split())
        raise BadInput(f"{what} {path} is not valid YAML ({first}); fix the file") from None


M = typing.TypeVar("M", bound=BaseModel)


def validate(schema: type[M], data, where: str) -> M:
    """``schema`` filled from ``data``; the first problem becomes one BadInput line naming
    ``where`` (a file, an entry), the key, and the closest valid key for unknown ones."""
    try:
        return schema.model_validate(data)
    except ValidationError as e:
        problems = e.errors(include_url=False)
        first = problems[0]
        loc = [str(p) for p in first["loc"]]
        key = ".".join(loc)
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        if first["type"] == "extra_forbidden":
            valid = fields_at(schema, first["loc"][:-1])
            hint = closest(loc[-1], valid) or (f" (valid keys: {', '.join(valid)})" if valid else "")
            raise BadInput(f"{where}: unknown key {key!r}{hint}{more}") from None
        if first["type"] == "missing":
            raise BadInput(f"{where}: {key} is required{more}") from None
        message = first["msg"].removeprefix("Value error, ")
        got = first.get("input")
        shown = "" if isinstance(got, (dict, list)) or first["type"].startswith(("model_", "dict_")) else f" (got {got!r})"
        at = f" {key}:" if loc else ""
        raise BadInput(f"{where}:{at} {message}{shown}{more}") from None


def fields_at(schema: type[BaseModel], loc: tuple) -> list[str]:
    """The field names of the (nested) model found at ``loc`` inside ``schema``."""
    model: object = schema
    for part in loc:
        if isinstance(part, int) or not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        field = model.model_fields.get(part)
        model = _model_in(field.annotation) if field else None
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _model_in(annotation):
    """The pydantic model inside ``X | None``, ``list[X]``, ``dict[str, X]``..., if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list, dict, tuple, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def reference(schemas: dict[str, type[BaseModel]]) -> str:
    """Markdown tables of the schemas' fields (type, default), generated from the classes
    themselves so the reference cannot drift from them (``docs/input-files.md``)."""
    parts = []
    for title, schema in schemas.items():
        parts += [f"### {title}: `{schema.__module__}.{schema.__qualname__}`", "",
                  " ".join((schema.__doc__ or "").split()), "", "| field | type | default |", "|---|---|---|"]
        for name, field in schema.model_fields.items():
            kind = _type_name(field.annotation).replace("|", "\\|")
            default = "required" if field.is_required() else f"`{field.get_default(call_default_factory=True)!r}`"
            parts.append(f"| `{name}` | {kind} | {default} |")
        parts.append("")
    return "\n".join(parts)


def _type_name(annotation) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (list, tuple, dict):
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in args if a is not Ellipsis)}]"
    return "None" if annotation is type(None) else getattr(annotation, "__name__", str(annotation))
