"""The import checker on a tiny package tree: it sees what it must see."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.import_rules import Tree, cycles, disallowed, parse_table

DOC = """# Fake

## Allowed imports

| package | may import |
|---|---|
| top level | nothing |
| `core/` | standard library only |
| `a/` | top level, `core/`, `b/` |
| `b/` | top level, `a/` |
| `c/` | top level |
| `app` | top level, `a/`, `b/`, `c/` |

## Next section

| not | this |
|---|---|
| `c/` | `a/` |
"""

FILES = {
    "__init__.py": "from pkg import a\n",
    "settings.py": "import os\n",
    "core/__init__.py": "import tomllib\n",
    "core/model.py": "import requests\n",
    "a/__init__.py": "",
    "a/x.py": "from pkg.b import y\nfrom .. import settings\n",
    "b/__init__.py": "",
    "b/y.py": "def later():\n    from ..a import x\n    return x\n",
    "c/__init__.py": "",
    "c/z.py": (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from pkg.a.x import thing\n"
        "from pkg import settings, core\n"
    ),
    "d/__init__.py": "",
}


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    for name, text in FILES.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Tree(tmp_path / "pkg", {"__init__": "app"})


def test_the_table_is_read_from_its_section_only() -> None:
    rules = parse_table(DOC)
    assert rules.allowed["c"] == {"top level"}
    assert rules.allowed["top level"] == set()
    assert rules.stdlib_only == {"core"}


def test_a_table_naming_an_unknown_package_is_refused() -> None:
    with pytest.raises(ValueError, match="has no row"):
        parse_table(DOC.replace("| `c/` | top level |", "| `c/` | top level, `e/` |", 1))


def test_every_kind_of_import_becomes_an_edge(tree: Tree) -> None:
    assert set(tree.edges()) == {
        ("a", "b"),  # absolute
        ("a", "top level"),  # relative, a root module
        ("b", "a"),  # relative, inside a function
        ("c", "a"),  # under TYPE_CHECKING
        ("c", "top level"),
        ("c", "core"),  # ``from root import package``
        ("app", "a"),
    }


def test_a_disallowed_import_and_an_unlisted_package_are_reported(tree: Tree) -> None:
    problems, unlisted = disallowed(tree, parse_table(DOC), {})
    assert problems == [
        "c may not import a: pkg.c.z:3 imports pkg.a.x",
        "c may not import core: pkg.c.z:4 imports pkg.core",
        "pkg.core.model:1 imports requests, not standard library",
    ]
    assert unlisted == ["d"]
    problems, _ = disallowed(tree, parse_table(DOC), {("c", "a"): "why", ("c", "core"): "why"})
    assert problems == ["pkg.core.model:1 imports requests, not standard library"]


def test_a_cycle_is_reported_with_its_path() -> None:
    graph = {"a": {"b"}, "b": {"c", "top"}, "c": {"a"}, "d": {"top"}, "top": set()}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_fake_tree_has_the_a_b_cycle(tree: Tree) -> None:
    graph: dict[str, set[str]] = {}
    for source, target in tree.edges():
        graph.setdefault(source, set()).add(target)
    assert cycles(graph) == [["a", "b", "a"]]
