"""A module's title becomes its gradebook column's name, which Moodle (a grade item's name)
and Canvas (an assignment's name) hold to 255 characters: a longer one made the platform
refuse the column, and every score of the module failed to sync. The loader refuses any
title longer than that, naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lti_tool.pathway.placements import offered_choices
from lti_tool.rules import RulesError, load_qualification
from lti_tool.rules.toml_fields import LONGEST_TITLE

WOUND_CARE = Path(__file__).parents[2] / "fixtures" / "qualifications" / "wound-care.toml"


def _titles(text: str) -> list[str]:
    """The file's titles in order: the qualification's, the first module's, its first course's."""
    return re.findall(r'title = ("[^"]*")', text)


@pytest.mark.parametrize("which", [0, 1, 2], ids=["qualification", "module", "course"])
def test_a_title_longer_than_a_gradebook_column_name_is_refused(tmp_path: Path, which: int) -> None:
    text = WOUND_CARE.read_text()
    title = _titles(text)[which]
    path = tmp_path / "long.toml"
    path.write_text(text.replace(title, '"' + "Wound care " * 30 + '"', 1))
    with pytest.raises(RulesError) as caught:
        load_qualification(path)
    assert caught.value.key.endswith("title")
    # A module's code and a space come before its title in a placed link's column name.
    longest = LONGEST_TITLE - len("WC1 ") if which == 1 else LONGEST_TITLE
    assert f"at most {longest} here" in caught.value.reason


def test_a_title_of_the_longest_length_loads(tmp_path: Path) -> None:
    text = WOUND_CARE.read_text()
    path = tmp_path / "longest.toml"
    path.write_text(text.replace(_titles(text)[2], '"' + "x" * LONGEST_TITLE + '"', 1))
    assert len(load_qualification(path).modules[0].courses[0].title) == LONGEST_TITLE


def test_a_module_placed_by_deep_linking_names_a_column_the_platform_holds(
    tmp_path: Path,
) -> None:
    """Deep Linking places a module as "<code> <title>", the label of the gradebook column it
    asks for and the placed activity's name: a title that fits 255 on its own made a label the
    platform refuses. The loader counts the code with a module's title."""
    text = WOUND_CARE.read_text()
    path = tmp_path / "long.toml"
    # "WC1 " + 252 characters: 256, one more than a column's name holds.
    path.write_text(text.replace(_titles(text)[1], '"' + "x" * (LONGEST_TITLE - 3) + '"', 1))
    with pytest.raises(RulesError) as caught:
        load_qualification(path)
    assert caught.value.key == "modules[0].title"
    assert f"at most {LONGEST_TITLE - 4} here" in caught.value.reason

    path.write_text(text.replace(_titles(text)[1], '"' + "x" * (LONGEST_TITLE - 4) + '"', 1))
    labels = [
        (choice.line_item or {}).get("label", choice.title)
        for choice in offered_choices(load_qualification(path))
    ]
    assert max(len(label) for label in labels) == LONGEST_TITLE
