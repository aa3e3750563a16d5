"""What the privacy pages call: one function per page or action, given the launch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lti_tool.audit import audit
from lti_tool.container import Services
from lti_tool.errors import NotFound
from lti_tool.lti.launch_context import Launch
from lti_tool.privacy.access import PrivacySubject, privacy_subject
from lti_tool.privacy.erasure import ErasureRequestView, pending_request_for, request_erasure
from lti_tool.privacy.export import find_user, personal_data


@dataclass(frozen=True)
class PrivacyOverview:
    """The privacy page: whose data, the export document, and any open erasure request."""

    subject: PrivacySubject
    document: dict[str, Any]
    pending_request: ErasureRequestView | None


def privacy_overview(services: Services, launch: Launch) -> PrivacyOverview:
    """Everything held about the person the launch may see (Forbidden otherwise)."""
    subject = privacy_subject(launch)
    with services.db.read_only() as session:
        document = personal_data(
            session, subject.registration_pk, subject.sub, hide_held=subject.is_self
        )
        user = find_user(session, subject.registration_pk, subject.sub)
        pending = pending_request_for(session, user.id) if user is not None else None
    return PrivacyOverview(subject=subject, document=document, pending_request=pending)


def export_personal_data(services: Services, launch: Launch) -> dict[str, Any]:
    """The export document; each download is audited (who downloaded whose data)."""
    subject = privacy_subject(launch)
    with services.db.unit_of_work() as session:
        document = personal_data(
            session, subject.registration_pk, subject.sub, hide_held=subject.is_self
        )
        user = find_user(session, subject.registration_pk, subject.sub)
        audit(
            session,
            action="privacy.export",
            actor_user_pk=subject.launcher_user_pk,
            context_pk=_context_pk(launch),
            subject_user_pk=user.id if user is not None else None,
            new={"schema_version": document["schema_version"], "found": document["found"]},
        )
    return document


def ask_for_erasure(
    services: Services, launch: Launch, reason: str | None
) -> tuple[ErasureRequestView, bool]:
    """Record (once) that the person's data should be erased; a tool admin decides."""
    subject = privacy_subject(launch)
    with services.db.read_only() as session:
        user = find_user(session, subject.registration_pk, subject.sub)
        user_pk = user.id if user is not None else None
    if user_pk is None:
        raise NotFound("nothing_held", "The tool holds no data about this person to erase.")
    return request_erasure(
        services,
        registration_pk=subject.registration_pk,
        subject_user_pk=user_pk,
        requested_by_user_pk=subject.launcher_user_pk,
        context_pk=_context_pk(launch),
        reason=reason,
    )


def _context_pk(launch: Launch) -> int | None:
    return launch.context_pk or None
