"""The import structure: no circles among the project's modules, an engine that knows no Django,
and layers that depend one way (ARCHITECTURE.md). Read from the source with `ast`; nothing runs."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("accounts", "mapping", "prm", "coselling", "incentives")
# engine <- lists <- matching <- sharing <- coselling: a layer imports only those on its left.
LAYERS = ("mapping.engine", "mapping.lists", "mapping.matching", "mapping.sharing", "coselling")


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str, path: Path, known, *, module_level_only: bool) -> set[str]:
    """The project modules that `module` imports: with module_level_only, only those run when it is
    imported (not inside functions, nor under `if TYPE_CHECKING:`)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def target(name: str) -> None:
        while name and name not in known:  # "a.b.Name" -> the module a.b
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)

    def visit(node) -> None:
        for child in ast.iter_child_nodes(node):
            if module_level_only and isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if module_level_only and isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(ast.Module(body=[sub], type_ignores=[]))
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    target(alias.name)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    source = ".".join(base + ([child.module] if child.module else []))
                else:
                    source = child.module or ""
                for alias in child.names:
                    target(f"{source}.{alias.name}")
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return found


def import_graph(*, module_level_only: bool = True) -> dict[str, set[str]]:
    modules = project_modules()
    return {m: imports_of(m, p, modules, module_level_only=module_level_only) for m, p in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def test_no_import_circle_among_the_projects_modules():
    assert circles(import_graph()) == []


def test_the_circle_finder_sees_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_engine_imports_neither_django_nor_any_project_app():
    modules = project_modules()
    engine = {m: p for m, p in modules.items() if m == "mapping.engine" or m.startswith("mapping.engine.")}
    assert engine, "mapping/engine/ not found"
    forbidden = ("django", "rest_framework", "drf_spectacular", "celery", "kombu", *PACKAGES)
    offending = []
    for module, path in engine.items():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):  # inside functions too
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                if name.split(".")[0] in forbidden and not (
                    name == "mapping.engine" or name.startswith("mapping.engine.")
                ):
                    offending.append(f"{module} imports {name}")
    assert offending == []


def test_the_mapping_layers_depend_one_way():
    """Every import counts here, inside functions too: a lower layer reaches a higher one only
    through what MappingConfig.ready hands down (a signal, a gate)."""

    def layer(module: str) -> int | None:
        for rank, name in enumerate(LAYERS):
            if module == name or module.startswith(name + "."):
                return rank
        return None

    upward = []
    for module, targets in import_graph(module_level_only=False).items():
        mine = layer(module)
        for target in targets:
            theirs = layer(target)
            if mine is not None and (theirs is None and target.startswith("mapping") or (theirs or 0) > mine):
                if target in ("mapping.conf",):  # the app's settings: below every layer
                    continue
                upward.append(f"{module} -> {target}")
    assert upward == []
