"""Which qualification a course follows: the link's parameter, the staff's choice, the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from lti_tool.rules import RulesError
from lti_tool.rules.catalog import Catalog

DATA = Path(__file__).parent / "data"
CONFIG = Path(__file__).parents[3] / "config" / "qualifications"


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    for source in [*CONFIG.glob("*.toml"), DATA / "made-up-diploma.toml"]:
        (tmp_path / source.name).write_text(source.read_text())
    return Catalog.load(tmp_path, "PGCERT-CL")


def test_the_link_parameter_beats_the_staff_choice(catalog: Catalog) -> None:
    diploma = next(code for code in catalog.qualifications if code != "PGCERT-CL")
    assert catalog.pick({"qualification": f" {diploma} "}, "PGCERT-CL").code == diploma


def test_the_staff_choice_beats_the_default(catalog: Catalog) -> None:
    diploma = next(code for code in catalog.qualifications if code != "PGCERT-CL")
    assert catalog.pick({}, diploma).code == diploma


def test_unknown_codes_fall_back_to_the_default(catalog: Catalog) -> None:
    assert catalog.pick({"qualification": "NOPE"}, "ALSO-NOPE").code == "PGCERT-CL"
    assert catalog.pick(None, None).code == "PGCERT-CL"
    assert catalog.find("NOPE") is None


def test_a_default_missing_from_the_folder_fails_at_start_up(tmp_path: Path) -> None:
    (tmp_path / "d.toml").write_text((DATA / "made-up-diploma.toml").read_text())
    with pytest.raises(RulesError, match="PGCERT-CL") as caught:
        Catalog.load(tmp_path, "PGCERT-CL")
    assert caught.value.key == "default_qualification" and "TEST-DIP" in caught.value.reason
