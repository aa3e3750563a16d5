"""Replacing a registration's endpoints and keys (auth login URL, token URL, JWKS URL, auth
audience): which key the tool trusts to sign launches for that platform. Dynamic
Registration never does this (anyone may start it); a tool administrator does, on the admin
page or with ``lti-tool platform set-endpoints``, and the audit log shows old → new.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from lti_tool.admin.audit_log import record_admin_change
from lti_tool.admin.identity import AdminIdentity, check_scope, require_tool_admin
from lti_tool.audit import registration_subject
from lti_tool.container import Services
from lti_tool.errors import NotFound
from lti_tool.lti import registry
from lti_tool.persistence.models import Registration

ACTION = "registration.endpoints"
WHAT = "Replacing a registration's endpoints and keys"


@dataclass(frozen=True)
class EndpointChange:
    """A registration's endpoints as they are and as the admin asks them to be."""

    registration_pk: int
    name: str
    old: dict[str, str | None]
    new: dict[str, str | None]

    @property
    def changed(self) -> list[str]:
        return [name for name in registry.ENDPOINT_FIELDS if self.old[name] != self.new[name]]


def _allowed(identity: AdminIdentity, pk: int) -> None:
    require_tool_admin(identity, WHAT)
    check_scope(identity, pk)


def _registration(session: Session, pk: int) -> Registration:
    row = session.get(Registration, pk)
    if row is None:
        raise NotFound("unknown_registration", "There is no such registration.")
    return row


def current_endpoints(services: Services, identity: AdminIdentity, pk: int) -> EndpointChange:
    """The registration's endpoints now (old and new alike), for the form."""
    _allowed(identity, pk)
    with services.db.read_only() as session:
        row = _registration(session, pk)
        now = registry.endpoints_of(row)
        return EndpointChange(pk, row.name, now, dict(now))


def review_endpoints(
    services: Services, identity: AdminIdentity, pk: int, form: dict[str, str | None]
) -> EndpointChange:
    """Check the asked-for endpoints without saving them (the confirmation page shows them)."""
    _allowed(identity, pk)
    with services.db.read_only() as session:
        row = _registration(session, pk)
        now = registry.endpoints_of(row)
        wanted = registry.checked_endpoints(now, form, development=services.settings.is_development)
        return EndpointChange(pk, row.name, now, wanted)


def apply_endpoints(
    services: Services, identity: AdminIdentity, pk: int, form: dict[str, str | None]
) -> EndpointChange:
    """Replace the endpoints, audit old → new, and forget the cached registration so the
    next login and launch use the new ones."""
    _allowed(identity, pk)
    with services.db.unit_of_work() as session:
        change = replace_and_audit(
            session,
            identity,
            _registration(session, pk),
            form,
            development=services.settings.is_development,
        )
    services.registry_cache.clear()
    return change


def replace_and_audit(
    session: Session,
    identity: AdminIdentity,
    row: Registration,
    form: dict[str, str | None],
    *,
    development: bool,
) -> EndpointChange:
    """Replace the endpoints in the caller's transaction and audit old → new. Nothing
    changed, nothing audited."""
    require_tool_admin(identity, WHAT)
    old, new = registry.replace_endpoints(session, row, form, development=development)
    if old or new:
        record_admin_change(
            session,
            identity,
            action=ACTION,
            subject=registration_subject(row.id),
            old=old,
            new={**new, "registration": row.name},
        )
    after = registry.endpoints_of(row)
    return EndpointChange(row.id, row.name, {**after, **old}, after)
