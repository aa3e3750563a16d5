"""Erasure requests: asked for from the Data Privacy Launch, decided by a tool admin.

The admin pages and ``lti-tool privacy`` call ``list_requests``, ``approve`` and ``reject``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.audit import audit
from lti_tool.container import Services
from lti_tool.errors import NotFound, ToolError
from lti_tool.persistence.models import Registration, User, utcnow
from lti_tool.persistence.models.privacy import ErasureRequest
from lti_tool.privacy.anonymise import APPROVED, PENDING, REJECTED, erase_user
from lti_tool.privacy.store_erasure import StoreSubject, forget_in_store, store_subject

SELF, LMS_ADMIN = "self", "lms_admin"


@dataclass(frozen=True)
class ErasureRequestView:
    """One erasure request as the admin list shows it. ``subject_*`` are None once erased."""

    id: int
    status: str
    registration_pk: int | None
    registration_name: str | None
    subject_user_pk: int | None
    subject_sub: str | None
    subject_name: str | None
    requested_by: str  # "the person" or "LMS administrator (<name or id>)"
    reason: str | None
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: str | None
    decision_reason: str | None
    erased_counts: dict[str, Any] | None


@dataclass(frozen=True)
class ErasureOutcome:
    """What an approval erased: counts per kind of row, never who."""

    request_id: int
    decided_at: dt.datetime
    counts: dict[str, int]


class RequestNotPending(ToolError):
    status = 409
    title = "Already decided"


def request_erasure(
    services: Services,
    *,
    registration_pk: int,
    subject_user_pk: int,
    requested_by_user_pk: int,
    context_pk: int | None,
    reason: str | None,
) -> tuple[ErasureRequestView, bool]:
    """Record a pending erasure request and audit it; ``(request, created)``.

    A second request for the same person while one is pending returns the pending one
    (``created`` False): the unique ``pending_user_pk`` settles even two requests at once.
    """
    role = SELF if requested_by_user_pk == subject_user_pk else LMS_ADMIN
    reason = (reason or "").strip()[:1000] or None
    with services.db.unit_of_work() as session:
        existing = _pending_for(session, subject_user_pk)
        if existing is not None:
            return _view(session, existing), False
        subject = session.get(User, subject_user_pk)
        if subject is None:
            raise NotFound("no_such_person", "The tool holds no record of this person.")
        row = ErasureRequest(
            registration_pk=registration_pk,
            user_pk=subject_user_pk,
            pending_user_pk=subject_user_pk,
            subject_sub=subject.sub,
            requested_by_user_pk=requested_by_user_pk,
            requested_by_role=role,
            reason=reason,
            status=PENDING,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            raced = _pending_for(session, subject_user_pk)
            if raced is None:
                raise
            return _view(session, raced), False
        audit(
            session,
            action="privacy.erasure_requested",
            actor_user_pk=requested_by_user_pk,
            context_pk=context_pk,
            subject=f"erasure request {row.id}",
            subject_user_pk=subject_user_pk,
            new={"request_id": row.id, "requested_by": role},
        )
        return _view(session, row), True


def pending_request_for(session: Session, user_pk: int) -> ErasureRequestView | None:
    """The person's open erasure request, if any (the privacy page shows it)."""
    row = _pending_for(session, user_pk)
    return _view(session, row) if row is not None else None


def list_requests(
    session: Session, registration_pk: int | None = None, status: str | None = "pending"
) -> list[ErasureRequestView]:
    """Erasure requests, oldest first; ``status`` None lists every status."""
    query = select(ErasureRequest).order_by(ErasureRequest.requested_at, ErasureRequest.id)
    if registration_pk is not None:
        query = query.where(ErasureRequest.registration_pk == registration_pk)
    if status is not None:
        query = query.where(ErasureRequest.status == status)
    return [_view(session, row) for row in session.scalars(query)]


def approve(services: Services, request_id: int, decided_by: str) -> ErasureOutcome:
    """Erase the person in one transaction and keep a non-identifying record of it.

    Deletes their completion records, module starts, results (and their outbox rows),
    memberships and user row; audit rows stay with the person taken out. The request row
    keeps only when, who decided and the counts.
    """
    decided_by = _decider(decided_by)
    erased: list[StoreSubject] = []
    with services.db.unit_of_work() as session:
        row = _pending_row(session, request_id)
        if row.user_pk is not None:
            erased.append(store_subject(session, row.user_pk))
        counts = erase_user(session, row.user_pk) if row.user_pk is not None else None
        session.refresh(row)
        now = utcnow()
        totals = counts.as_dict() if counts is not None else {}
        row.status, row.decided_at, row.decided_by = APPROVED, now, decided_by
        row.user_pk = row.pending_user_pk = None
        row.subject_sub = row.reason = None
        if row.requested_by_role == SELF:
            row.requested_by_user_pk = None
        row.erased_counts = totals
        audit(
            session,
            action="privacy.erasure_approved",
            actor_user_pk=None,
            context_pk=None,
            subject=f"erasure request {row.id}",
            new={"request_id": row.id, "decided_by": decided_by, **totals},
        )
        outcome = ErasureOutcome(request_id=row.id, decided_at=now, counts=totals)
    forget_in_store(services, erased)
    return outcome


def reject(services: Services, request_id: int, decided_by: str, reason: str) -> None:
    """Close the request without erasing anything; the reason is required and audited."""
    decided_by = _decider(decided_by)
    reason = reason.strip()
    if not reason:
        raise ToolError("reason_required", "Say why the erasure request is rejected.")
    with services.db.unit_of_work() as session:
        row = _pending_row(session, request_id)
        row.status, row.decided_at, row.decided_by = REJECTED, utcnow(), decided_by
        row.decision_reason = reason[:1000]
        row.pending_user_pk = None
        audit(
            session,
            action="privacy.erasure_rejected",
            actor_user_pk=None,
            context_pk=None,
            subject=f"erasure request {row.id}",
            subject_user_pk=row.user_pk,
            new={"request_id": row.id, "decided_by": decided_by},
            reason=reason,
        )


def _decider(decided_by: str) -> str:
    decided_by = decided_by.strip()[:255]
    if not decided_by:
        raise ToolError("decider_required", "Say who decides (a tool-admin name).")
    return decided_by


def _pending_for(session: Session, user_pk: int) -> ErasureRequest | None:
    return session.scalars(
        select(ErasureRequest).where(ErasureRequest.pending_user_pk == user_pk)
    ).first()


def _pending_row(session: Session, request_id: int) -> ErasureRequest:
    row = session.get(ErasureRequest, request_id, with_for_update=True)
    if row is None:
        raise NotFound("no_such_request", f"There is no erasure request {request_id}.")
    if row.status != PENDING:
        raise RequestNotPending("not_pending", f"Erasure request {request_id} is {row.status}.")
    return row


def _view(session: Session, row: ErasureRequest) -> ErasureRequestView:
    registration = session.get(Registration, row.registration_pk) if row.registration_pk else None
    subject = session.get(User, row.user_pk) if row.user_pk else None
    if row.requested_by_role == SELF:
        requested_by = "the person"
    else:
        asker = session.get(User, row.requested_by_user_pk) if row.requested_by_user_pk else None
        who = (asker.name or asker.sub) if asker else "no longer known"
        requested_by = f"LMS administrator ({who})"
    return ErasureRequestView(
        id=row.id,
        status=row.status,
        registration_pk=row.registration_pk,
        registration_name=registration.name if registration else None,
        subject_user_pk=row.user_pk,
        subject_sub=row.subject_sub,
        subject_name=subject.name if subject else None,
        requested_by=requested_by,
        reason=row.reason,
        requested_at=row.requested_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        decision_reason=row.decision_reason,
        erased_counts=row.erased_counts,
    )
