"""What a validated launch tells the tool about its user, context and resource link.

Each row is written with one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (PostgreSQL and
SQLite both have it): no read-then-write, no race between two first launches of the same
person, and four statements per launch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.lti import claims as c
from lti_tool.lti.launch import ValidatedLaunch
from lti_tool.persistence.models import Base, Context, Membership, ResourceLink, User, utcnow
from lti_tool.persistence.upsert import upsert


def _text(value: Any, limit: int = 255) -> str | None:
    """A claim as bounded text, or None (claims from other platforms are not trusted in shape)."""
    if isinstance(value, str) and value.strip():
        return value.strip()[:limit]
    return None


def _upsert(
    session: Session, model: type[Base], keys: dict[str, Any], values: dict[str, Any]
) -> int:
    """Insert or update the row identified by ``keys``; return its id."""
    table: Any = model.__table__
    result = upsert(session, table, [{**keys, **values}], list(keys), values, [table.c.id])
    return int(result.scalar_one())


def _user_values(claims: Mapping[str, Any]) -> dict[str, Any]:
    lis = claims.get(c.LIS)
    custom = claims.get(c.CUSTOM)
    canvas_id = custom.get("canvas_user_id") if isinstance(custom, dict) else None
    given, family = _text(claims.get("given_name")), _text(claims.get("family_name"))
    name = _text(claims.get("name")) or (" ".join(p for p in (given, family) if p) or None)
    values: dict[str, Any] = {
        "name": name,
        "given_name": given,
        "family_name": family,
        "email": _text(claims.get("email"), 320),
        "person_sourcedid": _text(lis.get("person_sourcedid")) if isinstance(lis, dict) else None,
        "updated_at": utcnow(),
    }
    # Kept so a class refresh can name students to Canvas's API ($Canvas.user.id), unless
    # the platform left the variable unsubstituted.
    if isinstance(canvas_id, str) and canvas_id.strip() and not canvas_id.startswith("$"):
        values["lms_user_id"] = canvas_id.strip()[:64]
    return values


def _context_values(claims: Mapping[str, Any], context_claim: Mapping[str, Any]) -> dict[str, Any]:
    types = context_claim.get("type")
    values: dict[str, Any] = {
        "title": _text(context_claim.get("title")),
        "label": _text(context_claim.get("label")),
        "types": [str(t) for t in types] if isinstance(types, list) else [],
        "updated_at": utcnow(),
    }
    nrps = claims.get(c.NRPS)
    if isinstance(nrps, dict) and _text(nrps.get("context_memberships_url"), 1024):
        values["nrps_url"] = _text(nrps.get("context_memberships_url"), 1024)
    ags = claims.get(c.AGS)
    if isinstance(ags, dict):
        if _text(ags.get("lineitems"), 1024):
            values["ags_lineitems_url"] = _text(ags.get("lineitems"), 1024)
        if isinstance(ags.get("scope"), list):
            values["ags_scopes"] = [str(s) for s in ags["scope"]]
    groups = claims.get(c.GROUPS_SERVICE)
    if isinstance(groups, dict):
        scopes = groups.get("scope")
        granted = isinstance(scopes, list) and c.GROUPS_SCOPE in scopes
        # Without the scope the platform would refuse the token: keep no URL to call.
        values["groups_url"] = _text(groups.get("context_groups_url"), 1024) if granted else None
        values["group_sets_url"] = (
            _text(groups.get("context_group_sets_url"), 1024) if granted else None
        )
    return values


def record_launch(session: Session, launch: ValidatedLaunch) -> dict[str, Any]:
    """Upsert user, context, resource link and membership; return their keys for the session."""
    claims: Mapping[str, Any] = launch.claims
    user_values = _user_values(claims)
    user_pk = _upsert(
        session,
        User,
        {"registration_id": launch.registration_pk, "sub": str(claims["sub"])},
        user_values,
    )

    context: dict[str, Any] | None = None
    context_claim = claims.get(c.CONTEXT)
    if isinstance(context_claim, dict) and context_claim.get("id"):
        values = _context_values(claims, context_claim)
        context_id = str(context_claim["id"])[:255]
        context_pk = _upsert(
            session,
            Context,
            {"deployment_pk": launch.deployment_pk, "context_id": context_id},
            values,
        )
        context = {
            "pk": context_pk,
            "id": context_id,
            "title": values["title"],
            "label": values["label"],
        }

    link_pk: int | None = None
    link_claim = claims.get(c.RESOURCE_LINK)
    if isinstance(link_claim, dict) and link_claim.get("id"):
        ags = claims.get(c.AGS)
        custom = claims.get(c.CUSTOM)
        link_pk = _upsert(
            session,
            ResourceLink,
            {
                "deployment_pk": launch.deployment_pk,
                "resource_link_id": str(link_claim["id"])[:255],
            },
            {
                "context_pk": context["pk"] if context else None,
                "title": _text(link_claim.get("title")),
                "ags_lineitem_url": (
                    _text(ags.get("lineitem"), 1024) if isinstance(ags, dict) else None
                ),
                "custom": (
                    {str(k): str(v) for k, v in custom.items()} if isinstance(custom, dict) else {}
                ),
                "updated_at": utcnow(),
            },
        )

    if context is not None:
        roles = [str(r) for r in claims.get(c.ROLES, []) if isinstance(r, str)]
        _upsert(
            session,
            Membership,
            {"context_pk": context["pk"], "user_pk": user_pk},
            {"roles": roles, "last_launch_at": utcnow(), "status": "active"},
        )
    return {
        "user_pk": user_pk,
        "name": user_values["name"],
        "email": user_values["email"],
        "context": context,
        "resource_link_pk": link_pk,
    }
