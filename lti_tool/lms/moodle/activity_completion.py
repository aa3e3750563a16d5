"""Moodle activity completion (``core_completion_get_activities_completion_status``): the
answer parsed, and one activity's status turned into a ``Completion`` in activity mode.

An activity's ``details`` may say 0 for every rule even when the activity is complete (Moodle
4.5.6), so they are only used to notice partial progress.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from lti_tool.lms.moodle.parsing import as_int, as_list, as_mapping, to_date
from lti_tool.rules.records import Completion, CompletionStatus

# Activity completion states (lib/completionlib.php COMPLETION_*).
INCOMPLETE, COMPLETE, COMPLETE_PASS, COMPLETE_FAIL = 0, 1, 2, 3


@dataclass(frozen=True)
class ActivityStatus:
    """One activity's completion for one user (``statuses[]`` item)."""

    cmid: int
    modname: str
    state: int
    timecompleted: int
    tracking: int
    tracked_user: bool
    rule_statuses: tuple[int, ...] = ()


def parse_activities_completion(body: object) -> list[ActivityStatus]:
    """Parse ``{statuses: [{cmid, modname, state, timecompleted, tracking, …}], warnings}``."""
    statuses = []
    for item in as_list(as_mapping(body, "answer").get("statuses")):
        row = as_mapping(item, "status")
        rules = tuple(
            as_int(as_mapping(rule, "rule").get("rulevalue", {}).get("status", 0))
            for rule in as_list(row.get("details", []))
        )
        statuses.append(
            ActivityStatus(
                cmid=as_int(row.get("cmid")),
                modname=str(row.get("modname", "")),
                state=as_int(row.get("state")),
                timecompleted=as_int(row.get("timecompleted") or 0),
                tracking=as_int(row.get("tracking", 0)),
                # Moodle before 4.0 does not send istrackeduser; a status then means tracked.
                tracked_user=bool(row.get("istrackeduser", True)),
                rule_statuses=rules,
            )
        )
    return statuses


def activity_record(code: str, status: ActivityStatus, tz: tzinfo, source: str) -> Completion:
    """Activity mode: one activity (cmid) is the CPD course.

    1 (complete) and 2 (complete-pass) → completed on ``timecompleted``. 3 (complete-fail) →
    in progress since that date: attempted, not passed. 0 → in progress when Moodle still
    holds evidence of work: a completion record with a date (viewed, or ticked then unticked)
    or a rule of the activity already met; otherwise not started. A user Moodle does not track
    (not enrolled, or the enrolment ended) → not started, marked not enrolled.
    """
    when = to_date(status.timecompleted, tz)
    if not status.tracked_user:
        return Completion(code, CompletionStatus.NOT_STARTED, source=source, enrolled=False)
    if status.state in (COMPLETE, COMPLETE_PASS):
        return Completion(code, CompletionStatus.COMPLETED, when, when, source)
    if status.state == COMPLETE_FAIL or when is not None or any(status.rule_statuses):
        return Completion(code, CompletionStatus.IN_PROGRESS, when, None, source)
    return Completion(code, CompletionStatus.NOT_STARTED, source=source)
