"""The package's layers, checked from its imports: each layer folder imports only its own
and lower layers (the order its docstring states), and no two modules import each other
through any chain."""

import ast
import importlib
from pathlib import Path

import pope_bench

PACKAGE = Path(pope_bench.__file__).resolve().parent
#: bottom to top; the package root (metadata, lazy model exports), ``cli`` and ``__main__``
#: sit above every layer
LAYERS = ["core", "data", "encodings", "models", "tasks", "training", "sweep", "report"]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every ``pope_bench`` module the file imports, at top level or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pope_bench"):
            assert node.level == 0, f"{path}: relative import"
            for alias in node.names:  # `from pope_bench.x import module` names a module
                child = f"{node.module}.{alias.name}"
                found.add(child if importlib.util.find_spec(node.module) and _is_module(child) else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("pope_bench")}
    return found


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def layer_of(module: str) -> int:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return len(LAYERS)  # pope_bench itself, cli, __main__


GRAPH = {module_name(p): imported_modules(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_layer_folder_states_its_rule():
    for layer in LAYERS:
        doc = ast.get_docstring(ast.parse((PACKAGE / layer / "__init__.py").read_text())) or ""
        assert "may import" in doc, f"pope_bench/{layer}/__init__.py must say what it may import"


def test_no_layer_imports_a_higher_one():
    upward = [(m, d) for m, deps in GRAPH.items() for d in deps
              if d != "pope_bench" and layer_of(d) > layer_of(m)]
    assert upward == []


def test_no_import_circle():
    # the package root is left out: every layer imports it for ``__version__``, and its one
    # edge back into a layer (the lazy model export) runs only on attribute access
    graph = {m: {d for d in deps if d != "pope_bench"} for m, deps in GRAPH.items() if m != "pope_bench"}

    def reaches_itself(start: str) -> bool:
        seen, todo = set(), list(graph[start])
        while todo:
            m = todo.pop()
            if m == start:
                return True
            if m not in seen:
                seen.add(m)
                todo += graph.get(m, ())
        return False

    assert [m for m in graph if reaches_itself(m)] == []
