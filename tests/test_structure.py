"""The house's rules, read off the source (ast): the folder rule, no import circles, lazy
imports only where laziness is the reason, true ``__all__``, no oversized module.

The folder rule, from the top down; a module imports only its own layer or layers below:

    cli/ -> faces -> _jobs/ -> _ops/ -> _store/ -> _fleet/ -> run kit -> _client/ -> vocabulary

``_analysis/`` (pure frame -> frame) imports only the vocabulary and is imported only by
the faces and the CLI; ``sandbox/`` imports nothing else of hotglue_nb and is loaded only
lazily (it needs the [sandbox] extra).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import hotglue_nb

ROOT = Path(hotglue_nb.__file__).parent
PACKAGE = "hotglue_nb"

FACES = {"", "aio", "_api", "widgets", "_demo"}
VOCABULARY = {"_exceptions", "_config", "_models", "_endpoints", "_fieldmap", "_values",
              "_frames", "_types", "_version", "_keywords", "_masking", "_warnings"}  # fmt: skip
RUN_KIT = {"_fanout", "_options", "_signatures", "_progress", "_journal", "_tenants", "_files",
           "_last_run"}  # fmt: skip
#: layers from the top: a module may import its own layer and those after it
LAYERS = ("cli", "faces", "jobs", "ops", "store", "fleet", "kit", "client", "vocabulary")
FOLDERS = {"cli": "cli", "_jobs": "jobs", "_ops": "ops", "_store": "store", "_fleet": "fleet",
           "_client": "client", "_analysis": "analysis", "sandbox": "sandbox"}  # fmt: skip
#: what may be imported inside a function, and why
LAZY = {
    "hotglue_nb.sandbox": "needs starlette/uvicorn (the [sandbox] extra)",
    "hotglue_nb._client._transport": "aiohttp loads on the first request (import stays light)",
    "hotglue_nb._store._postgres": "needs SQLAlchemy and psycopg (the [postgres] extra)",
}
MAX_LINES, MANY_LINES, AT_MOST_MANY = 400, 300, 7


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the module imported
    names: tuple[str, ...]  # names taken from it (from ... import a, b)
    local: bool  # inside a function
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def layer(module: str) -> str:
    inner = module.removeprefix(PACKAGE).removeprefix(".")
    head = inner.split(".", 1)[0]
    if head in FOLDERS:
        return FOLDERS[head]
    if inner == "__main__":  # python -m hotglue_nb: the command line
        return "cli"
    if inner in FACES:
        return "faces"
    if inner in VOCABULARY:
        return "vocabulary"
    if inner in RUN_KIT:
        return "kit"
    raise AssertionError(f"{module} belongs to no layer: add it to the rule (and the docs)")


def imports_of(module: str) -> list[Import]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: list[Import] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom):
                base = _absolute(child, package)
                if base.split(".")[0] == PACKAGE:
                    found.extend(_from_import(module, base, child, local))
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == PACKAGE:
                        found.append(Import(module, alias.name, (), local, child.lineno))
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _from_import(module: str, base: str, node: ast.ImportFrom, local: bool) -> list[Import]:
    subs = [a.name for a in node.names if f"{base}.{a.name}" in MODULES]
    names = tuple(a.name for a in node.names if a.name not in subs)
    out = [Import(module, f"{base}.{name}", (), local, node.lineno) for name in subs]
    if names:
        out.append(Import(module, base, names, local, node.lineno))
    return out


EDGES = [edge for module in MODULES for edge in imports_of(module)]


def test_every_module_is_in_a_layer() -> None:
    for module in MODULES:
        layer(module)


def test_imports_follow_the_folder_rule() -> None:
    wrong = []
    for edge in EDGES:
        src, dst = layer(edge.source), layer(edge.target)
        if src == dst:
            continue
        if src == "sandbox":
            wrong.append(f"{edge.source} imports {edge.target}: the sandbox imports nothing else")
        elif dst == "sandbox" and not edge.local:
            wrong.append(f"{edge.source} imports the sandbox at import time (lazily only)")
        elif src == "analysis" and dst != "vocabulary":
            wrong.append(f"{edge.source} imports {edge.target}: analysis uses the vocabulary only")
        elif dst == "analysis" and src not in ("cli", "faces"):
            wrong.append(f"{edge.source} imports {edge.target}: analysis serves faces and cli")
        elif dst in LAYERS and src in LAYERS and LAYERS.index(dst) < LAYERS.index(src):
            wrong.append(f"{edge.source}:{edge.line} imports {edge.target} ({src} -> {dst}: up)")
    assert not wrong, "\n".join(wrong)


def test_no_import_circles_at_all() -> None:
    """Top-level and function-local imports alike: a local import hides a circle, it does
    not break it."""
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for edge in EDGES:
        if edge.target in graph and edge.target != edge.source:
            graph[edge.source].add(edge.target)
    circles = [sorted(group) for group in _strongly_connected(graph) if len(group) > 1]
    assert not circles, circles


def test_function_local_imports_only_for_laziness() -> None:
    local = [e for e in EDGES if e.local]
    unexplained = [
        f"{e.source}:{e.line} imports {e.target} inside a function"
        for e in local
        if not any(e.target == lazy or e.target.startswith(lazy + ".") for lazy in LAZY)
    ]
    assert not unexplained, "\n".join(unexplained)


def test_every_all_is_true() -> None:
    """Each module's ``__all__`` names what it defines, and every name another module takes
    from it is in it."""
    exported = {module: _all_of(path) for module, path in MODULES.items()}
    problems = []
    for module, names in exported.items():
        if MODULES[module].name == "__main__.py":
            continue
        if names is None:
            problems.append(f"{module} has no __all__")
            continue
        defined = _defined(MODULES[module])
        problems += [f"{module}.__all__ names {n!r}, not defined" for n in names - defined]
    for edge in EDGES:
        names = exported.get(edge.target)
        missing = [n for n in edge.names if names is not None and n not in names]
        if missing and edge.source != edge.target:
            problems.append(f"{edge.source} takes {missing} from {edge.target}, not in __all__")
    assert not problems, "\n".join(problems)


def test_no_module_is_oversized() -> None:
    sizes = {module: len(path.read_text().splitlines()) for module, path in MODULES.items()}
    assert max(sizes.values()) <= MAX_LINES, {m: n for m, n in sizes.items() if n > MAX_LINES}
    many = {m: n for m, n in sizes.items() if n > MANY_LINES}
    assert len(many) <= AT_MOST_MANY, many


def _all_of(path: Path) -> set[str] | None:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            assert isinstance(node, ast.Assign)
            return set(ast.literal_eval(node.value))
    return None


def _defined(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(group)
    return groups
