"""Recording assessment-module results: validated, audited, and queued for the gradebook in
the same transaction (the outbox), so a saved result can never miss its sync."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.audit import audit
from lti_tool.errors import InvalidInput, NotFound
from lti_tool.grading import outbox
from lti_tool.grading.outcome_check import check_outcome
from lti_tool.grading.result_input import ResultInput, parse_result
from lti_tool.pathway.checklist import check_studies_here
from lti_tool.pathway.module_starts import check_module
from lti_tool.persistence.locks import WriteConflict, lock_or_insert, write_lock
from lti_tool.persistence.models import (
    AssessmentResultRow,
    Membership,
    OutboxRow,
    User,
    utcnow,
)
from lti_tool.rules import Qualification

CANVAS_SUBMISSION = "https://canvas.instructure.com/lti/submission"


def roster_student(session: Session, context_pk: int, sub: str) -> User:
    """An active student of the course; results for anyone else are refused."""
    user = session.scalar(
        select(User)
        .join(Membership, Membership.user_pk == User.id)
        .where(Membership.context_pk == context_pk, User.sub == sub)
    )
    if user is None:
        raise NotFound("not_in_roster", f"No student “{sub}” in this course's roster.")
    return check_studies_here(session, context_pk, user)


def score_payload(result: AssessmentResultRow, sub: str, platform_kind: str) -> dict[str, Any]:
    """The AGS score body. Its timestamp is the result's change time, so resending it
    (after a crash) changes nothing, and an older change can never overwrite a newer one."""
    stamp = result.changed_at.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    payload: dict[str, Any] = {
        "userId": sub,
        "scoreGiven": result.score,
        "scoreMaximum": result.max_score,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": stamp.replace("+00:00", "Z"),
    }
    if result.comment:
        payload["comment"] = result.comment
    if platform_kind == "canvas":
        # No new submission attempt in Canvas's gradebook: this is a mark, not a submission.
        payload[CANVAS_SUBMISSION] = {"new_submission": False}
    return payload


def save_result(
    session: Session,
    *,
    qualification: Qualification,
    context_pk: int,
    sub: str,
    module_code: str,
    body: Any,
    actor_user_pk: int | None,
    cpd_complete: bool,
    platform_kind: str,
    completion_read: bool = True,
) -> AssessmentResultRow:
    """Create or change a result; audit old → new; queue it when released."""
    check_module(qualification, module_code)
    data = parse_result(body)
    student = roster_student(session, context_pk, sub)
    module = qualification.module(module_code)
    check_outcome(module, data.score, data.max_score, data.outcome, data.outcome_confirmed)
    if not cpd_complete and not data.override_reason and not completion_read:
        raise InvalidInput(
            "completion_unreadable",
            f"Completion could not be read from the LMS: give a reason to record anyway "
            f"({student.name or sub}, {module_code}).",
        )
    if not cpd_complete and not data.override_reason:
        raise InvalidInput(
            "cpd_incomplete",
            f"{student.name or sub} has not met the CPD requirement of {module_code}: give an "
            "override reason to record a result anyway.",
        )
    # The row is locked before it is read, so "old" is the value this change replaces and
    # changed_at is taken after every earlier change of this result has committed.
    result, created = lock_or_insert(
        session,
        AssessmentResultRow,
        {"context_pk": context_pk, "user_pk": student.id, "module_code": module_code},
        lambda: AssessmentResultRow(
            context_pk=context_pk,
            user_pk=student.id,
            module_code=module_code,
            score=data.score,
            max_score=data.max_score,
            outcome=data.outcome.value,
            released=data.released,
            changed_at=_next_timestamp(None),
        ),
    )
    seen = None if created else result.changed_at
    if data.check_unchanged and data.expected_changed_at != seen:
        raise WriteConflict(
            "result_changed",
            f"{student.name or sub}'s {module_code} result was changed by someone else after "
            "you opened it, so your change was not saved. Reload to see the current result, "
            "then make your change again.",
        )
    if not created and _unchanged(result, data) and not _worth_sending_again(session, result):
        # The same result again (a class export imported back, a form saved twice): nothing
        # to audit, and nothing new for the gradebook (sending it again would be a second
        # post of a score it has or will have).
        return result
    old = None if created else _snapshot(result)
    result.score, result.max_score = data.score, data.max_score
    result.outcome, result.comment = data.outcome.value, data.comment
    result.released = data.released
    result.override_reason = data.override_reason
    if not created:
        result.changed_at = _next_timestamp(result.changed_at)
    result.changed_by_user_pk = actor_user_pk
    session.flush()
    audit(
        session,
        action="result.save",
        actor_user_pk=actor_user_pk,
        context_pk=context_pk,
        subject=module_code,
        subject_user_pk=student.id,
        old=old,
        new=_snapshot(result),
        reason=data.override_reason,
    )
    if result.released:
        queue(session, result, sub, platform_kind)
    else:
        # Held back now: an earlier, released value still waiting for the gradebook (in a
        # sync already started, too) must not reach it as the student's mark.
        supersede(session, result)
    return result


def _unchanged(result: AssessmentResultRow, data: ResultInput) -> bool:
    """Whether saving ``data`` would leave every value of ``result`` as it is."""
    return (
        data.score,
        data.max_score,
        data.outcome.value,
        data.comment,
        data.released,
        data.override_reason,
    ) == (
        result.score,
        result.max_score,
        result.outcome,
        result.comment,
        result.released,
        result.override_reason,
    )


def _worth_sending_again(session: Session, result: AssessmentResultRow) -> bool:
    """Whether saving a released result unchanged should queue it again: when its last send
    was refused or failed (saving it again is how a tutor sends it once more, say after the
    student was enrolled again), not when it is delivered or on its way."""
    if not result.released:
        return False
    last = session.scalar(
        select(OutboxRow.status)
        .where(OutboxRow.result_pk == result.id)
        .order_by(OutboxRow.id.desc())
        .limit(1)
    )
    return last in {"refused", "failed"}


def supersede(session: Session, result: AssessmentResultRow) -> None:
    """The result's older values still pending, failed or refused are not sent (a sync claims
    only pending rows, so one already started leaves them too)."""
    outbox.supersede(session, result.id)


def queue(session: Session, result: AssessmentResultRow, sub: str, platform_kind: str) -> None:
    """Add the result's current value to the outbox; an older value still pending, failed or
    refused is superseded (only the newest value is worth sending)."""
    supersede(session, result)
    outbox.add(
        session,
        OutboxRow(
            result_pk=result.id,
            context_pk=result.context_pk,
            module_code=result.module_code,
            payload=score_payload(result, sub, platform_kind),
        ),
    )


def release(
    session: Session,
    context_pk: int,
    actor_user_pk: int | None,
    platform_kind: str,
    *,
    module_code: str | None = None,
    sub: str | None = None,
) -> int:
    """Release held results (all, one module's, or one student's) and queue their sync."""
    query = (
        select(AssessmentResultRow, User.sub)
        .join(User, User.id == AssessmentResultRow.user_pk)
        .where(
            AssessmentResultRow.context_pk == context_pk, AssessmentResultRow.released.is_(False)
        )
    )
    if module_code:
        query = query.where(AssessmentResultRow.module_code == module_code)
    if sub:
        query = query.where(User.sub == sub)
    # Locked, so two releases (or a release and a change) never queue one result twice.
    write_lock(session)
    query = query.with_for_update(of=AssessmentResultRow).execution_options(populate_existing=True)
    count = 0
    # The older outbox rows of all of them superseded at the end, in one order (outbox.py).
    with outbox.together(session):
        for result, result_sub in session.execute(query).all():
            result.released = True
            queue(session, result, result_sub, platform_kind)
            audit(
                session,
                action="result.release",
                actor_user_pk=actor_user_pk,
                context_pk=context_pk,
                subject=result.module_code,
                subject_user_pk=result.user_pk,
            )
            count += 1
    return count


def held(session: Session, context_pk: int, module_code: str | None = None) -> dict[str, set[int]]:
    """The held (not yet released) results of the course: module code → its students' keys."""
    query = select(AssessmentResultRow.module_code, AssessmentResultRow.user_pk).where(
        AssessmentResultRow.context_pk == context_pk, AssessmentResultRow.released.is_(False)
    )
    if module_code:
        query = query.where(AssessmentResultRow.module_code == module_code)
    found: dict[str, set[int]] = {}
    for code, user_pk in session.execute(query.order_by(AssessmentResultRow.module_code)):
        found.setdefault(code, set()).add(user_pk)
    return found


def _next_timestamp(previous: dt.datetime | None) -> dt.datetime:
    """Now, in whole seconds, and at least a second after the previous change: Moodle compares
    score timestamps to the second, so a change within the same second would be refused."""
    now = utcnow().replace(microsecond=0)
    if previous is not None and now <= previous:
        return previous.replace(microsecond=0) + dt.timedelta(seconds=1)
    return now


def _snapshot(result: AssessmentResultRow) -> dict[str, Any]:
    return {
        "score": result.score,
        "max": result.max_score,
        "outcome": result.outcome,
        "comment": result.comment,
        "released": result.released,
    }
