"""The package's import graph, read from its source with ``ast`` (nothing is imported).

Used by tests/unit/test_architecture.py and benchmarks/architecture.py. An edge is a
runtime import, at module level or inside a function; imports under
``if TYPE_CHECKING:`` are left out, since they never run.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Module:
    name: str  # dotted, e.g. pytest_llmjudge.judging.judge
    path: Path
    docstring: str | None
    imports: set[str] = field(default_factory=set)  # runtime imports, dotted
    # (imported module, name) for every ``from X import _name`` of an underscored name
    private_names: set[tuple[str, str]] = field(default_factory=set)


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def read_package(root: Path) -> dict[str, Module]:
    """Every module of the package at ``root`` (a folder with __init__.py)."""
    modules: dict[str, Module] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        name = _module_name(root, path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        module = Module(name, path, ast.get_docstring(tree))
        _collect(tree, module, package)
        modules[name] = module
    names = set(modules)
    for module in modules.values():  # ``from pkg import submodule`` imports the submodule
        module.imports = {_submodule(i, names) for i in module.imports}
    return modules


def _submodule(target: str, names: set[str]) -> str:
    head, _, tail = target.partition(":")
    return f"{head}.{tail}" if tail and f"{head}.{tail}" in names else head


def _collect(node: ast.AST, module: Module, package: str) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            for part in child.orelse:  # the body never runs
                _collect_one(part, module, package)
            continue
        _collect_one(child, module, package)


def _collect_one(node: ast.AST, module: Module, package: str) -> None:
    into = module.imports
    if isinstance(node, ast.Import):
        into.update(alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        for alias in node.names:
            # "target:name" is resolved to a submodule later, where one exists.
            into.add(f"{target}:{alias.name}")
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                module.private_names.add((target, alias.name))
    else:
        _collect(node, module, package)


def internal_edges(modules: dict[str, Module]) -> dict[str, set[str]]:
    """Runtime imports between the package's own modules (a package's __init__ counts
    as imported by any import of something under it, as Python runs it)."""
    edges: dict[str, set[str]] = {}
    for name, module in modules.items():
        targets: set[str] = set()
        for imported in module.imports:
            parts = imported.split(".")
            for k in range(1, len(parts) + 1):
                prefix = ".".join(parts[:k])
                if prefix in modules and prefix != name and not name.startswith(prefix + "."):
                    targets.add(prefix)
        edges[name] = targets
    return edges


def cycles(modules: dict[str, Module]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    edges = internal_edges(modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(modules):
        if node not in index:
            visit(node)
    return found


def loads(modules: dict[str, Module], start: str, external: str) -> list[str] | None:
    """The chain of runtime imports by which importing ``start`` imports ``external``
    (e.g. "pytest"), or None when it never does."""
    edges = internal_edges(modules)
    seen = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        if any(i == external or i.startswith(external + ".") or
               i.split(":")[0] == external for i in modules[node].imports):
            return seen[node] + [external]
        for nxt in sorted(edges[node]):
            if nxt not in seen:
                seen[nxt] = seen[node] + [nxt]
                queue.append(nxt)
    return None


def read_top_level_imports(path: Path) -> set[str]:
    """The modules a file imports when it is itself imported (not inside functions,
    not under TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module)
    return found
