"""``lti/`` is the protocol layer: it receives narrow collaborators (lti/collaborators.py) and
plain values, and imports neither the application's wiring nor the qualification rules."""

from __future__ import annotations

import ast
from pathlib import Path

import lti_tool

FORBIDDEN = ("lti_tool.container", "lti_tool.rules")


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_lti_imports_neither_the_container_nor_the_rules() -> None:
    package = Path(lti_tool.__file__).parent / "lti"
    modules = sorted(package.rglob("*.py"))
    assert len(modules) > 10
    found = [
        f"{path.relative_to(package)}: {name}"
        for path in modules
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    ]
    assert found == []
