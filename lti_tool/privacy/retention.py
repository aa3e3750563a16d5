"""Retention: the data of courses nobody has used for a while goes, and so do the people
left in no course.

A course's last activity is the latest of: a launch in it (its members' ``last_launch_at``,
and the course row's ``updated_at``, which every launch and course change refreshes) and
its last roster fetch (``roster_fetched_at``). Its rows go with it (memberships, module
starts, results and their outbox rows, gradebook columns, sync jobs, settings, links); its
audit rows stay with the people taken out. People with no membership left anywhere, and
people never seen in a course whose record is older than the limit, are erased as by an
approved erasure request.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from lti_tool.audit import audit
from lti_tool.container import Services
from lti_tool.persistence.models import (
    AssessmentResultRow,
    AuditEntry,
    CohortModuleStart,
    Context,
    Deployment,
    LineItemRow,
    Membership,
    OutboxRow,
    Registration,
    ResourceLink,
    StudentModuleStart,
    SyncJobRow,
    User,
    utcnow,
)
from lti_tool.privacy.anonymise import (
    ErasedCounts,
    anonymise_audit,
    erase_user,
    identifying_strings,
)
from lti_tool.privacy.store_erasure import forget_in_store, store_subject

# What a purged course takes with it, counted per table (the database cascades the rest).
_COUNTED: dict[str, Any] = {
    "memberships": Membership,
    "module_starts": StudentModuleStart,
    "cohort_module_starts": CohortModuleStart,
    "assessment_results": AssessmentResultRow,
    "outbox_rows": OutboxRow,
    "line_items": LineItemRow,
    "sync_jobs": SyncJobRow,
    "resource_links": ResourceLink,
}


@dataclass(frozen=True)
class ContextPurge:
    """One inactive course: what it is, when it was last used, and what goes with it."""

    context_pk: int
    registration: str
    context_id: str
    title: str | None
    last_activity: dt.datetime
    counts: dict[str, int]


@dataclass(frozen=True)
class PurgeReport:
    cutoff: dt.datetime
    dry_run: bool
    contexts: list[ContextPurge] = field(default_factory=list)
    users_erased: int = 0
    user_counts: ErasedCounts = field(default_factory=ErasedCounts)


def inactive_contexts(session: Session, cutoff: dt.datetime) -> list[ContextPurge]:
    """Courses whose last activity is before ``cutoff``, with the rows each would take."""
    latest = (
        select(Membership.context_pk, func.max(Membership.last_launch_at).label("launched"))
        .group_by(Membership.context_pk)
        .subquery()
    )
    rows = session.execute(
        select(Context, Registration.name, latest.c.launched)
        .join(Deployment, Deployment.id == Context.deployment_pk)
        .join(Registration, Registration.id == Deployment.registration_id)
        .outerjoin(latest, latest.c.context_pk == Context.id)
        .order_by(Context.id)
    )
    found: list[ContextPurge] = []
    for context, registration, launched in rows:
        moments = [context.updated_at, context.roster_fetched_at, launched]
        last = max(_aware(m) for m in moments if m is not None)
        if last < cutoff:
            found.append(
                ContextPurge(
                    context_pk=context.id,
                    registration=registration,
                    context_id=context.context_id,
                    title=context.title,
                    last_activity=last,
                    counts=_context_counts(session, context.id),
                )
            )
    return found


def purge(
    services: Services, older_than_days: int, *, dry_run: bool, now: dt.datetime | None = None
) -> PurgeReport:
    """Delete (or with ``dry_run`` only count) what has been inactive ``older_than_days``.

    One transaction: a failure part-way leaves the database as it was.
    """
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = (now or utcnow()) - dt.timedelta(days=older_than_days)
    if dry_run:
        with services.db.read_only() as session:
            contexts = inactive_contexts(session, cutoff)
            users = _orphans(session, {c.context_pk for c in contexts}, cutoff)
            return PurgeReport(cutoff, True, contexts, users_erased=len(users))
    with services.db.unit_of_work() as session:
        contexts = inactive_contexts(session, cutoff)
        gone = {c.context_pk for c in contexts}
        users = _orphans(session, gone, cutoff)
        subjects = [store_subject(session, user_pk) for user_pk in sorted(users)]
        # Courses first, so the people's counts below hold only what is not already counted
        # with a course (their completion records, their user rows, audit rows elsewhere).
        for item in contexts:
            _delete_context(session, item.context_pk)
        totals = ErasedCounts()
        for user_pk in sorted(users):
            totals = totals + erase_user(session, user_pk)
        if contexts or users:
            audit(
                session,
                action="privacy.retention_purge",
                actor_user_pk=None,
                context_pk=None,
                subject=f"older than {older_than_days} days",
                new={"contexts": len(contexts), "users": len(users), **totals.as_dict()},
            )
        report = PurgeReport(cutoff, False, contexts, users_erased=len(users), user_counts=totals)
    forget_in_store(services, subjects)
    return report


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _context_counts(session: Session, context_pk: int) -> dict[str, int]:
    counts = {
        name: int(
            session.scalar(
                select(func.count()).select_from(model).where(model.context_pk == context_pk)
            )
            or 0
        )
        for name, model in _COUNTED.items()
    }
    counts["audit_entries_anonymised"] = int(
        session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.context_pk == context_pk)
        )
        or 0
    )
    return counts


def _orphans(session: Session, gone: set[int], cutoff: dt.datetime) -> set[int]:
    """People with no membership outside the purged courses: members of those courses,
    and people never in a course whose record was last updated before ``cutoff``."""
    kept = select(Membership.user_pk)
    if gone:
        kept = kept.where(Membership.context_pk.not_in(gone))
    members = (
        set(session.scalars(select(Membership.user_pk).where(Membership.context_pk.in_(gone))))
        if gone
        else set()
    )
    any_membership = select(Membership.user_pk)
    stale = set(
        session.scalars(
            select(User.id).where(User.updated_at < cutoff, User.id.not_in(any_membership))
        )
    )
    still_in_a_course = set(session.scalars(kept.where(Membership.user_pk.in_(members))))
    return (members - still_in_a_course) | stale


def _delete_context(session: Session, context_pk: int) -> None:
    """Take the course's people out of its audit rows, then delete it (rows cascade)."""
    members = set(
        session.scalars(select(Membership.user_pk).where(Membership.context_pk == context_pk))
    )
    needles = sorted(
        {
            s
            for user in session.scalars(select(User).where(User.id.in_(members)))
            for s in identifying_strings(user)
        },
        key=len,
        reverse=True,
    )
    scope = AuditEntry.context_pk == context_pk
    actors = set(session.scalars(select(AuditEntry.actor_user_pk).where(scope)))
    subjects = set(session.scalars(select(AuditEntry.subject_user_pk).where(scope)))
    anonymise_audit(session, scope, {pk for pk in actors | subjects if pk is not None}, needles)
    session.execute(delete(Context).where(Context.id == context_pk))
    session.expire_all()
