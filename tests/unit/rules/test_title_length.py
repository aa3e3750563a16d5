"""A module's title becomes its gradebook column's name, which Moodle (a grade item's name)
and Canvas (an assignment's name) hold to 255 characters: a longer one made the platform
refuse the column, and every score of the module failed to sync. The loader refuses any
title longer than that, naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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
    assert f"at most {LONGEST_TITLE}" in caught.value.reason


def test_a_title_of_the_longest_length_loads(tmp_path: Path) -> None:
    text = WOUND_CARE.read_text()
    path = tmp_path / "longest.toml"
    path.write_text(text.replace(_titles(text)[1], '"' + "x" * LONGEST_TITLE + '"', 1))
    assert len(load_qualification(path).modules[0].title) == LONGEST_TITLE
