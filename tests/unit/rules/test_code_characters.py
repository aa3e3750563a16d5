"""Module and course codes travel in the tool's addresses (``PUT /api/context/results/<module>/
<student>``, ``PUT /api/context/completions/<student>/<course>``): a code holding "/" could
never be recorded there (404), so the loader refuses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lti_tool.rules import RulesError, load_qualification

WOUND_CARE = Path(__file__).parents[2] / "fixtures" / "qualifications" / "wound-care.toml"


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [('"WC1"', '"WC/1"', "modules[0].code"), ('"W01"', '"W/01"', "modules[0].courses[0].code")],
    ids=["module", "course"],
)
def test_a_code_with_a_slash_is_refused(tmp_path: Path, old: str, new: str, key: str) -> None:
    path = tmp_path / "slash.toml"
    path.write_text(WOUND_CARE.read_text().replace(old, new))
    with pytest.raises(RulesError) as caught:
        load_qualification(path)
    assert caught.value.key == key
    assert "'/'" in caught.value.reason


def test_other_punctuation_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "dots.toml"
    path.write_text(WOUND_CARE.read_text().replace('"WC1"', '"WC-1.a"'))
    assert load_qualification(path).modules[0].code == "WC-1.a"
