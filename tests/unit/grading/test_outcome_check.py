"""An outcome that disagrees with the score needs confirming: against the module's pass mark,
or, with none, only the plain contradictions around half marks."""

from __future__ import annotations

import dataclasses

import pytest

from lti_tool.errors import InvalidInput
from lti_tool.grading.outcome_check import check_outcome, outcome_disagreement
from lti_tool.rules import AssessmentOutcome
from tests.unit.rules.support import pgcert

PASS, FAIL, REFERRED = AssessmentOutcome.PASS, AssessmentOutcome.FAIL, AssessmentOutcome.REFERRED
B832 = pgcert().module("B832")
WITH_MARK = dataclasses.replace(B832, pass_mark=40.0)


@pytest.mark.parametrize(
    ("score", "outcome", "asks"),
    [(30, PASS, True), (50, PASS, False), (49.5, PASS, True), (50, FAIL, True), (10, FAIL, False)],
)
def test_without_a_pass_mark_half_marks_divide(
    score: float, outcome: AssessmentOutcome, asks: bool
) -> None:
    assert (outcome_disagreement(B832, score, 100, outcome) is not None) is asks


@pytest.mark.parametrize(
    ("score", "max_score", "outcome", "asks"),
    [
        (30, 100, PASS, True),
        (40, 100, PASS, False),
        (45, 100, FAIL, True),
        (45, 100, REFERRED, True),
        (39, 100, REFERRED, False),
        (8, 20, PASS, False),
        (7, 20, PASS, True),
    ],
)
def test_with_a_pass_mark_the_mark_divides(
    score: float, max_score: float, outcome: AssessmentOutcome, asks: bool
) -> None:
    assert (outcome_disagreement(WITH_MARK, score, max_score, outcome) is not None) is asks


def test_the_message_names_the_pass_mark_and_a_confirmation_saves() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_outcome(WITH_MARK, 30, 100, PASS, confirmed=False)
    assert caught.value.code == "outcome_unconfirmed"
    assert caught.value.message == (
        "30 out of 100 is below the B832 pass mark of 40%, and the outcome is Pass. "
        "Confirm the outcome to record Pass."
    )
    check_outcome(WITH_MARK, 30, 100, PASS, confirmed=True)
    no_mark = outcome_disagreement(B832, 30, 100, PASS)
    assert no_mark is not None and "B832 sets no pass mark" in no_mark
