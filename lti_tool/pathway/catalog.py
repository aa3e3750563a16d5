"""Which qualification a course tracks: the staff's choice, a copied course's inheritance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.audit import audit
from lti_tool.errors import ToolError
from lti_tool.pathway.reads import QUALIFICATION_CHOSEN
from lti_tool.persistence.locks import lock_or_insert
from lti_tool.persistence.models import Context, ContextSettings
from lti_tool.rules import Qualification
from lti_tool.rules.catalog import Catalog


class UnknownQualification(ToolError):
    status = 400
    title = "Unknown qualification"


class QualificationSetByLink(ToolError):
    status = 409
    title = "The link sets the qualification"


def refuse_if_set_by_link(catalog: Catalog, custom: Mapping[str, Any] | None) -> None:
    """A choice made on the page would be ignored where the link's custom parameter names a
    qualification (it wins): refused, saying where to change it."""
    linked = catalog.named_by_link(custom)
    if linked is not None:
        raise QualificationSetByLink(
            "qualification_set_by_link",
            f"This link sets the qualification with the custom parameter"
            f" qualification={linked.code}, which a choice here cannot change: change or"
            " remove that parameter in the LMS's settings for the link or the tool.",
        )


def qualification_for(
    session: Session, catalog: Catalog, context_pk: int | None, custom: Mapping[str, Any] | None
) -> Qualification:
    """The qualification a launch follows: the link's ``qualification`` custom parameter, else
    the staff's choice for the course, else the configured default."""
    chosen = None
    if context_pk is not None:
        chosen = session.scalar(QUALIFICATION_CHOSEN, {"context_pk": context_pk})
    return catalog.pick(custom, chosen)


def choose_qualification(
    session: Session, catalog: Catalog, context_pk: int, code: str, actor_user_pk: int | None
) -> Qualification:
    """Staff pick the qualification a course tracks."""
    qualification = catalog.find(code)
    if qualification is None:
        known = ", ".join(sorted(catalog.qualifications))
        raise UnknownQualification(
            "unknown_qualification", f"No qualification with code {code!r}; known: {known}."
        )
    # Locked before it is read (made when missing): two choices at once are applied one
    # after the other, and each audits the choice it replaced.
    settings, created = lock_or_insert(
        session,
        ContextSettings,
        {"context_pk": context_pk},
        lambda: ContextSettings(context_pk=context_pk),
    )
    old = None if created else settings.qualification_code
    settings.qualification_code = qualification.code
    audit(
        session,
        action="qualification.choose",
        actor_user_pk=actor_user_pk,
        context_pk=context_pk,
        old={"qualification": old},
        new={"qualification": qualification.code},
    )
    return qualification


def inherit_from_history(session: Session, context: Context, history: str) -> bool:
    """A course copied for a new presentation starts from the old one's settings, when the
    platform names its history (custom ``context_history=$Context.id.history``)."""
    if session.get(ContextSettings, context.id) is not None:
        return False
    for previous_id in (h.strip() for h in history.split(",") if h.strip()):
        previous = session.scalar(
            select(Context).where(
                Context.deployment_pk == context.deployment_pk, Context.context_id == previous_id
            )
        )
        if previous is None:
            continue
        old = session.get(ContextSettings, previous.id)
        if old is None:
            continue
        session.add(
            ContextSettings(
                context_pk=context.id,
                qualification_code=old.qualification_code,
                copied_from_context_pk=previous.id,
            )
        )
        return True
    return False
