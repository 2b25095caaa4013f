"""The one way an input file becomes typed data.

Every input file kind (registry entry, task definition and each task type's params,
recipe, figure spec, suite) is a pydantic model derived from :class:`StrictModel`: it
owns its fields, types, ranges and defaults in one place and refuses unknown keys. This
module is also the one reader of user files (:func:`read_bytes`, :func:`read_text`,
:func:`read_json`, :func:`read_yaml`: regular files only, a size cap, UTF-8, a cap on YAML
alias expansion) and turns the first validation problem into one
:class:`~pope_bench.core.errors.BadInput` line that names the file, the key and — for an
unknown key — the closest valid one (:func:`validate`).
"""

from __future__ import annotations

import json
import re
import stat
import types
import typing
from pathlib import Path
from typing import Annotated

import yaml
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


#: the most bytes a hand-written input file (YAML, JSON, CSV) may hold; files of rows
#: (``results.jsonl``) have their own, larger cap
MAX_FILE_BYTES = 16 * 2**20
#: the most nodes a YAML document may expand to once its aliases are followed: far above
#: any real file, far below what an alias bomb ("billion laughs") needs to hang a reader
MAX_YAML_NODES = 200_000


def read_bytes(path, what: str, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """A user file's bytes: a regular file (not a folder, pipe, device or socket — reading
    a pipe would wait for ever) of at most ``max_bytes``; anything else is one line that
    says which file and what to do."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise BadInput(f"{what} {path} does not exist") from None
    except OSError as e:
        raise BadInput(f"cannot read {what} {path} ({e.strerror or e})") from None
    if stat.S_ISDIR(info.st_mode):
        raise BadInput(f"{what} {path} is a folder, not a file") from None
    if not stat.S_ISREG(info.st_mode):
        raise BadInput(f"{what} {path} is not a regular file (a pipe, device or socket); give a file")
    if info.st_size > max_bytes:
        raise BadInput(f"{what} {path} is {info.st_size:,} bytes, more than the {max_bytes:,} it may have; "
                       "is it the right file?")
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise BadInput(f"cannot read {what} {path} ({e.strerror or e})") from None
    if len(data) > max_bytes:
        raise BadInput(f"{what} {path} grew past the {max_bytes:,} bytes it may have while being read")
    return data


def read_text(path, what: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """A user file as UTF-8 text (:func:`read_bytes`' checks, then the decoding)."""
    data = read_bytes(path, what, max_bytes)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadInput(f"{what} {path} is not UTF-8 text (byte {e.start}); save it as UTF-8") from None


def read_json(path, what: str):
    """A user JSON file's content; invalid JSON is one line naming the file."""
    try:
        return json.loads(read_text(path, what))
    except (json.JSONDecodeError, RecursionError) as e:
        raise BadInput(f"{what} {path} is not valid JSON ({e}); fix or move the file aside") from None


def read_yaml(path, what: str):
    """A YAML file's content (safe loader); unreadable, non-UTF-8 or invalid YAML, or one
    whose aliases expand past :data:`MAX_YAML_NODES` nodes, is one line that says which
    file and what to fix."""
    return parse_yaml(read_text(path, what), f"{what} {path}")


def parse_yaml(text: str, where: str):
    """YAML text as data (safe loader), with the alias expansion capped and cycles refused."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_nodes(node, {}, set()) > MAX_YAML_NODES:
            raise BadInput(f"{where} expands to more than {MAX_YAML_NODES:,} values through its aliases (&/*); "
                           "write the values out")
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        first = " ".join(str(e).split())
        raise BadInput(f"{where} is not valid YAML ({first}); fix the file") from None
    except RecursionError:
        raise BadInput(f"{where} is nested too deeply; fix the file") from None
    finally:
        loader.dispose()


def _expanded_nodes(node, sizes: dict, open_: set) -> int:
    """How many nodes ``node`` stands for with every alias followed (memoised per node, so
    counting a bomb is as cheap as reading it); an alias to an enclosing node expands for ever."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_:
        return MAX_YAML_NODES + 1
    open_.add(key)
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_nodes(k, sizes, open_) + _expanded_nodes(v, sizes, open_) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_nodes(item, sizes, open_) for item in node.value)
    else:
        size = 1
    open_.discard(key)
    sizes[key] = size
    return size


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
