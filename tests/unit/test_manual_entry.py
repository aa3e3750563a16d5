"""A staff correction is a status staff can know: "can't be tracked" is only the LMS's word."""

from __future__ import annotations

import pytest

from lti_tool.errors import InvalidInput
from lti_tool.pathway.manual import parse_entry
from tests.unit.rules.support import pgcert


@pytest.mark.parametrize("word", ["untrackable", "Untrackable", "UNTRACKABLE"])
def test_staff_cannot_record_untrackable_by_hand(word: str) -> None:
    with pytest.raises(InvalidInput, match="Status must be one of"):
        parse_entry(pgcert(), "GB085", {"status": word, "reason": "test"}, 1)
    # The control: a status staff may record is accepted.
    entry = parse_entry(pgcert(), "GB085", {"status": "in progress", "reason": "test"}, 1)
    assert entry is not None
