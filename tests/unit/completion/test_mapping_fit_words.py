"""The mapping page's words on a mapping that does not fit its source's mode are English for
both LMSs: "activities" and "modules", "an activity" and "a module" (they read "activitys"
and "an module")."""

from __future__ import annotations

import pytest

from lti_tool.completion.mapping_fit import not_read, refusal, search_refusal


@pytest.mark.parametrize(("kind", "parts"), [("moodle", "activities"), ("canvas", "modules")])
def test_a_stored_mapping_not_read_names_the_parts_in_the_plural(kind: str, parts: str) -> None:
    assert not_read(kind, "course", "55") == (
        f"Not read: this source reads whole {kind.title()} courses, not {parts}."
    )
    assert f"reads {kind.title()} {parts}, and no" in (not_read(kind, "activity", None) or "")
    assert f"look for the {parts} of one course" in (search_refusal(kind, "activity", False) or "")


@pytest.mark.parametrize(("kind", "part"), [("moodle", "an activity"), ("canvas", "a module")])
def test_a_refused_mapping_uses_the_right_article(kind: str, part: str) -> None:
    assert f"cannot be linked to {part}:" in (refusal(kind, "course", "GB085", "55") or "")
