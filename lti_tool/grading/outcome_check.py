"""Does the outcome staff chose agree with the score? Asked before a result is saved, so that
30/100 "Pass" is never recorded by a slip of the keyboard.

With the module's pass mark (``pass_mark`` in the qualification's file, a percentage of the
maximum) a Pass below it, or a Fail or Referred at or above it, needs confirming. A
qualification that sets no pass mark gives nothing to judge against, so the tool only asks
about the plain contradictions: a Pass under half marks, a Fail or Referred at half marks or
more. Either way the outcome is what staff decide; the check only asks them to say so.
"""

from __future__ import annotations

from lti_tool.errors import InvalidInput
from lti_tool.rules import AssessmentOutcome, Module
from lti_tool.rules.records import OUTCOME_NAMES

NO_PASS_MARK_THRESHOLD = 50.0


class OutcomeUnconfirmed(InvalidInput):
    """The outcome disagrees with the score: save again with ``outcome_confirmed``."""

    title = "Please confirm the outcome"


def outcome_disagreement(
    module: Module, score: float, max_score: float, outcome: AssessmentOutcome
) -> str | None:
    """Why the outcome needs confirming, in plain words, or None when it agrees."""
    percent = 100 * score / max_score
    mark = module.pass_mark
    threshold = NO_PASS_MARK_THRESHOLD if mark is None else mark
    passed = outcome is AssessmentOutcome.PASS
    if passed == (percent >= threshold):
        return None
    given = f"{score:g} out of {max_score:g}"
    word = OUTCOME_NAMES[outcome.value]
    if mark is None:
        where = "under half marks" if passed else "at half marks or more"
        return (
            f"{given} is {where}, and the outcome is {word}. {module.code} sets no pass mark: "
            f"confirm the outcome to record {word}."
        )
    side = "below" if passed else "at or above"
    return (
        f"{given} is {side} the {module.code} pass mark of {mark:g}%, and the outcome is "
        f"{word}. Confirm the outcome to record {word}."
    )


def check_outcome(
    module: Module, score: float, max_score: float, outcome: AssessmentOutcome, confirmed: bool
) -> None:
    """Refuse an outcome that disagrees with the score unless staff confirmed it."""
    reason = None if confirmed else outcome_disagreement(module, score, max_score, outcome)
    if reason:
        raise OutcomeUnconfirmed("outcome_unconfirmed", reason)
