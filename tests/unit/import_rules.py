"""The checker behind ``test_architecture.py``: which package imports which, against a table.

A *group* is what a row of the ``## Allowed imports`` table in ``docs/architecture.md`` names:
each sub-package of the root (``lti``, ``grading``, …), plus groups for the root's own modules
(``TOP_MODULE_GROUPS``; any other root module is in ``top level``). Every ``import`` and
``from … import`` is read with ``ast``, wherever it stands (inside functions, under
``TYPE_CHECKING``), absolute or relative.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

TOP_LEVEL = "top level"
STDLIB_ONLY = "standard library only"
NOTHING = {"nothing", "nothing of the tool", "—", "-", ""}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    line: int
    target: str  # the imported module, dotted

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


@dataclass
class Rules:
    allowed: dict[str, set[str]] = field(default_factory=dict)
    stdlib_only: set[str] = field(default_factory=set)


def parse_table(markdown: str, heading: str = "## Allowed imports") -> Rules:
    """The table (columns: package | may import) in the section under ``heading``."""
    section = markdown.split(heading, 1)
    if len(section) != 2:
        raise ValueError(f"no {heading!r} section")
    body = re.split(r"^## ", section[1], maxsplit=1, flags=re.MULTILINE)[0]
    rows = [line for line in body.splitlines() if line.startswith("|")]
    if len(rows) < 3:
        raise ValueError(f"no table under {heading!r}")
    rules = Rules()
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows[2:]]
    for package, _ in cells:
        rules.allowed[_name(package)] = set()
    for package, may_import in cells:
        for item in (_name(i) for i in may_import.split(",")):
            if item == STDLIB_ONLY:
                rules.stdlib_only.add(_name(package))
            elif item not in NOTHING:
                if item not in rules.allowed:
                    raise ValueError(f"the row {package!r} names {item!r}, which has no row")
                rules.allowed[_name(package)].add(item)
    return rules


def _name(cell: str) -> str:
    name = cell.replace("`", "").strip().lower()
    name = re.sub(r"\s*\(.*\)$", "", name)  # "top level (settings.py, …)"
    return name.removesuffix("/").removesuffix(".py")


class Tree:
    """The modules under one root package."""

    def __init__(self, root: Path, top_module_groups: Mapping[str, str]) -> None:
        self.root = root
        self.name = root.name
        self.top_module_groups = top_module_groups

    def modules(self) -> Iterator[tuple[str, Path]]:
        for path in sorted(self.root.rglob("*.py")):
            if "migrations" in path.relative_to(self.root).parts:
                continue
            parts = path.relative_to(self.root.parent).with_suffix("").parts
            yield ".".join(parts).removesuffix(".__init__"), path

    def group(self, dotted: str) -> str:
        parts = dotted.split(".")
        if len(parts) == 1:
            return self.top_module_groups.get("__init__", TOP_LEVEL)
        if (self.root / parts[1]).is_dir():
            return parts[1]
        return self.top_module_groups.get(parts[1], TOP_LEVEL)

    def _exists(self, dotted: str) -> bool:
        path = self.root.parent.joinpath(*dotted.split("."))
        return path.is_dir() or path.with_suffix(".py").is_file()

    def imports(self, module: str, path: Path) -> Iterator[Import]:
        """Every import of a module of this tree, by ``module`` (at ``path``)."""
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    source = ".".join([*base, node.module] if node.module else base)
                else:
                    source = node.module or ""
                # ``from root import x``: x may be a module, which decides the group.
                targets = [
                    f"{source}.{alias.name}" if self._exists(f"{source}.{alias.name}") else source
                    for alias in node.names
                ]
            else:
                continue
            for target in dict.fromkeys(targets):  # once per imported module and line
                if target == self.name or target.startswith(self.name + "."):
                    yield Import(module, node.lineno, target)

    def external_imports(self, path: Path) -> Iterator[tuple[int, str]]:
        """Top-level names of imports from outside the tree (absolute imports only)."""
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != self.name:
                    yield node.lineno, top

    def edges(self) -> dict[tuple[str, str], list[Import]]:
        """(importing group, imported group) → the imports that make the edge."""
        found: dict[tuple[str, str], list[Import]] = defaultdict(list)
        for module, path in self.modules():
            for imp in self.imports(module, path):
                pair = (self.group(module), self.group(imp.target))
                if pair[0] != pair[1]:
                    found[pair].append(imp)
        return dict(found)


def disallowed(
    tree: Tree, rules: Rules, known: Mapping[tuple[str, str], str]
) -> tuple[list[str], list[str]]:
    """Imports the table does not allow, and groups with no row in it."""
    problems: list[str] = []
    groups = {tree.group(module) for module, _ in tree.modules()}
    unlisted = sorted(g for g in groups if g not in rules.allowed)
    for (source, target), imports in sorted(tree.edges().items()):
        if source in unlisted or (source, target) in known:
            continue
        if target not in rules.allowed[source]:
            shown = "; ".join(str(i) for i in imports[:3])
            more = f" (and {len(imports) - 3} more)" if len(imports) > 3 else ""
            problems.append(f"{source} may not import {target}: {shown}{more}")
    for module, path in tree.modules():
        if tree.group(module) in rules.stdlib_only:
            for line, name in tree.external_imports(path):
                if name not in sys.stdlib_module_names and name != "__future__":
                    problems.append(f"{module}:{line} imports {name}, not standard library")
    return problems, unlisted


def cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """One cycle (first node repeated at the end) per strongly connected component (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                components.append(component)

    for node in sorted(set(edges) | {n for targets in edges.values() for n in targets}):
        if node not in index:
            visit(node)
    return [_cycle_in(component, edges) for component in components]


def _cycle_in(component: set[str], edges: Mapping[str, set[str]]) -> list[str]:
    """A shortest cycle through the component's first node (breadth-first)."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(edges.get(node, set()) & component):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    raise AssertionError("a strongly connected component always holds a cycle")
