"""What a validated launch tells the tool about its user, context and resource link."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.lti import claims as c
from lti_tool.lti.launch import ValidatedLaunch
from lti_tool.persistence.models import Context, Membership, ResourceLink, User, utcnow

T = TypeVar("T")


def _text(value: Any, limit: int = 255) -> str | None:
    """A claim as bounded text, or None (claims from other platforms are not trusted in shape)."""
    if isinstance(value, str) and value.strip():
        return value.strip()[:limit]
    return None


def _get_or_create(session: Session, find: Callable[[], T | None], make: Callable[[], T]) -> T:
    """Insert unless present; a concurrent insert of the same row is absorbed."""
    found = find()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            row = make()
            session.add(row)
            session.flush()
        return row
    except IntegrityError:
        found = find()
        assert found is not None
        return found


def record_launch(session: Session, launch: ValidatedLaunch) -> dict[str, Any]:
    """Upsert user, context, resource link and membership; return their keys for the session."""
    claims: Mapping[str, Any] = launch.claims
    sub = str(claims["sub"])
    user = _get_or_create(
        session,
        lambda: session.scalar(
            select(User).where(User.registration_id == launch.registration_pk, User.sub == sub)
        ),
        lambda: User(registration_id=launch.registration_pk, sub=sub),
    )
    lis = claims.get(c.LIS) if isinstance(claims.get(c.LIS), dict) else {}
    user.name = _text(claims.get("name"))
    user.given_name = _text(claims.get("given_name"))
    user.family_name = _text(claims.get("family_name"))
    user.email = _text(claims.get("email"), 320)
    user.person_sourcedid = _text(lis.get("person_sourcedid")) if lis else None
    if user.name is None and (user.given_name or user.family_name):
        user.name = " ".join(p for p in (user.given_name, user.family_name) if p)

    context: Context | None = None
    context_claim = claims.get(c.CONTEXT)
    if isinstance(context_claim, dict) and context_claim.get("id"):
        context_id = str(context_claim["id"])[:255]
        context = _get_or_create(
            session,
            lambda: session.scalar(
                select(Context).where(
                    Context.deployment_pk == launch.deployment_pk, Context.context_id == context_id
                )
            ),
            lambda: Context(deployment_pk=launch.deployment_pk, context_id=context_id),
        )
        context.title = _text(context_claim.get("title"))
        context.label = _text(context_claim.get("label"))
        types = context_claim.get("type")
        context.types = [str(t) for t in types] if isinstance(types, list) else []
        nrps = claims.get(c.NRPS)
        if isinstance(nrps, dict) and _text(nrps.get("context_memberships_url"), 1024):
            context.nrps_url = _text(nrps.get("context_memberships_url"), 1024)
        ags = claims.get(c.AGS)
        if isinstance(ags, dict):
            if _text(ags.get("lineitems"), 1024):
                context.ags_lineitems_url = _text(ags.get("lineitems"), 1024)
            scopes = ags.get("scope")
            if isinstance(scopes, list):
                context.ags_scopes = [str(s) for s in scopes]

    link: ResourceLink | None = None
    link_claim = claims.get(c.RESOURCE_LINK)
    if isinstance(link_claim, dict) and link_claim.get("id"):
        link_id = str(link_claim["id"])[:255]
        link = _get_or_create(
            session,
            lambda: session.scalar(
                select(ResourceLink).where(
                    ResourceLink.deployment_pk == launch.deployment_pk,
                    ResourceLink.resource_link_id == link_id,
                )
            ),
            lambda: ResourceLink(deployment_pk=launch.deployment_pk, resource_link_id=link_id),
        )
        link.context_pk = context.id if context else None
        link.title = _text(link_claim.get("title"))
        ags = claims.get(c.AGS)
        if isinstance(ags, dict):
            link.ags_lineitem_url = _text(ags.get("lineitem"), 1024)
        custom = claims.get(c.CUSTOM)
        link.custom = (
            {str(k): str(v) for k, v in custom.items()} if isinstance(custom, dict) else {}
        )

    if context is not None:
        ctx = context
        membership = _get_or_create(
            session,
            lambda: session.scalar(
                select(Membership).where(
                    Membership.context_pk == ctx.id, Membership.user_pk == user.id
                )
            ),
            lambda: Membership(context_pk=ctx.id, user_pk=user.id),
        )
        membership.roles = [str(r) for r in claims.get(c.ROLES, []) if isinstance(r, str)]
        membership.last_launch_at = utcnow()
    session.flush()
    return {
        "user_pk": user.id,
        "name": user.name,
        "email": user.email,
        "context": (
            {
                "pk": context.id,
                "id": context.context_id,
                "title": context.title,
                "label": context.label,
            }
            if context
            else None
        ),
        "resource_link_pk": link.id if link else None,
    }
