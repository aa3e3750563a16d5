"""The code keeps the allowed-imports table of ``docs/architecture.md``: no package imports one
its row does not name, and no import cycle runs between packages.

``KNOWN_VIOLATIONS`` is the drift not untied yet, (importing package, imported package) with
the reason; it is exempt from both checks and may only shrink: an entry the code no longer
has fails the test, so it is removed when its work is done.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import lti_tool
from tests.unit.import_rules import (
    Rules,
    Tree,
    cycles,
    disallowed,
    parse_table,
)

ROOT = Path(lti_tool.__file__).parent
DOC = ROOT.parent / "docs" / "architecture.md"
# The root's own modules outside the shared "top level" group.
TOP_MODULE_GROUPS = {
    "container": "container",
    "audit": "audit",
    "__init__": "app",
    "serving": "app",
}

KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module")
def tree() -> Tree:
    return Tree(ROOT, TOP_MODULE_GROUPS)


@pytest.fixture(scope="module")
def rules() -> Rules:
    return parse_table(DOC.read_text())


def test_every_package_has_a_row(tree: Tree, rules: Rules) -> None:
    _, unlisted = disallowed(tree, rules, KNOWN_VIOLATIONS)
    assert not unlisted, f"add a row to the Allowed imports table of {DOC.name}: {unlisted}"


def test_no_package_imports_one_its_row_does_not_name(tree: Tree, rules: Rules) -> None:
    problems, _ = disallowed(tree, rules, KNOWN_VIOLATIONS)
    assert not problems, (
        f"imports the Allowed imports table of {DOC.name} does not allow:\n  "
        + "\n  ".join(problems)
    )


def test_no_import_cycle_between_packages(tree: Tree) -> None:
    graph: dict[str, set[str]] = {}
    for source, target in tree.edges():
        if (source, target) not in KNOWN_VIOLATIONS:
            graph.setdefault(source, set()).add(target)
    found = cycles(graph)
    assert not found, "import cycles between packages: " + "; ".join(
        " → ".join(cycle) for cycle in found
    )


def test_known_violations_only_shrink(tree: Tree, rules: Rules) -> None:
    edges = tree.edges()
    gone = [pair for pair in KNOWN_VIOLATIONS if pair not in edges]
    assert not gone, f"no longer imported: remove from KNOWN_VIOLATIONS: {gone}"
    allowed = [pair for pair in KNOWN_VIOLATIONS if pair[1] in rules.allowed.get(pair[0], ())]
    assert not allowed, f"allowed by the table: remove from KNOWN_VIOLATIONS: {allowed}"
