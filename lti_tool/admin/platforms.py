"""Registrations and their deployments as admins see and change them.

A deployment is *waiting for approval* when it is inactive and was never approved (its
``approval`` is ``pending``): Dynamic Registration in ``approve`` mode and the first launch
from a deployment of a registration that holds new deployments both record deployments that
way (``lti/dynreg/flow.py``, ``lti/deployment_policy.py``). Who may switch a deployment on and
off is ``admin/deployments.py``; what a registration does with new deployments is changed in
``admin/new_deployments.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.admin.audit_log import record_admin_change
from lti_tool.admin.identity import AdminIdentity, check_scope, require_tool_admin
from lti_tool.audit import registration_subject
from lti_tool.container import Services
from lti_tool.errors import NotFound
from lti_tool.lti import deployment_policy as policy
from lti_tool.lti import registry
from lti_tool.persistence.models import CompletionSourceConfig, Registration

ADD = "registration.add"
RENAME = "registration.rename"


@dataclass(frozen=True)
class DeploymentView:
    pk: int
    deployment_id: str
    active: bool
    created_at: dt.datetime
    approval: str  # lti/deployment_policy.py: PENDING, APPROVED or SWITCHED_OFF

    @property
    def awaiting_approval(self) -> bool:
        """Inactive and never approved: a tool admin's to approve."""
        return not self.active and self.approval == policy.PENDING

    @property
    def switched_off_by_tool_admin(self) -> bool:
        """A tool admin switched it off: only a tool admin switches it back on."""
        return not self.active and self.approval == policy.SWITCHED_OFF


@dataclass(frozen=True)
class RegistrationView:
    pk: int
    name: str
    kind: str
    issuer: str
    client_id: str
    created_at: dt.datetime
    source_kind: str | None
    deployments: list[DeploymentView]
    new_deployments: str = policy.HOLD  # "accept" or "hold"
    source_mode: str | None = None  # "course" or "activity", with a completion source

    @property
    def awaiting_approval(self) -> list[DeploymentView]:
        return [d for d in self.deployments if d.awaiting_approval]


def _view(session: Session, row: Registration) -> RegistrationView:
    source = session.get(CompletionSourceConfig, row.id)
    return RegistrationView(
        pk=row.id,
        name=row.name,
        kind=row.kind,
        issuer=row.issuer,
        client_id=row.client_id,
        created_at=row.created_at,
        source_kind=source.kind if source is not None else None,
        source_mode=source.mode if source is not None else None,
        deployments=[
            DeploymentView(
                pk=d.id,
                deployment_id=d.deployment_id,
                active=d.active,
                created_at=d.created_at,
                approval=d.approval,
            )
            for d in row.deployments
        ],
        new_deployments=row.new_deployments,
    )


def list_registrations(services: Services, identity: AdminIdentity) -> list[RegistrationView]:
    """The registrations the admin may see, by name, with their deployments."""
    with services.db.read_only() as session:
        query = select(Registration).order_by(Registration.name)
        if identity.registration_pk is not None:
            query = query.where(Registration.id == identity.registration_pk)
        return [_view(session, row) for row in session.scalars(query)]


def get_registration(services: Services, identity: AdminIdentity, pk: int) -> RegistrationView:
    """One registration in the admin's scope (NotFound otherwise)."""
    check_scope(identity, pk)
    with services.db.read_only() as session:
        row = session.get(Registration, pk)
        if row is None:
            raise NotFound("unknown_registration", "There is no such registration.")
        return _view(session, row)


def get_deployment(
    services: Services, identity: AdminIdentity, registration_pk: int, deployment_pk: int
) -> tuple[RegistrationView, DeploymentView]:
    """A deployment of a registration in scope, for the confirmation page."""
    registration = get_registration(services, identity, registration_pk)
    for deployment in registration.deployments:
        if deployment.pk == deployment_pk:
            return registration, deployment
    raise NotFound("unknown_deployment", "That registration has no such deployment.")


def registration_pk_by_name(services: Services, identity: AdminIdentity, name: str) -> int:
    """The registration called ``name`` (the command line names them), in the admin's scope."""
    with services.db.read_only() as session:
        pk = registry.get_by_name(session, name).id
    check_scope(identity, pk)
    return pk


def add_registration(
    services: Services, identity: AdminIdentity, spec: registry.PlatformSpec
) -> int:
    """Register a platform by hand with its deployments (all active); tool admins only, and
    audited with everything the tool will trust. Returns the new registration's pk."""
    require_tool_admin(identity, "Registering a platform")
    with services.db.unit_of_work() as session:
        row = registry.add_platform(session, spec, development=services.settings.is_development)
        record_admin_change(
            session,
            identity,
            action=ADD,
            subject=registration_subject(row.id),
            new={
                "registration": row.name,
                "kind": row.kind,
                "issuer": row.issuer,
                "client_id": row.client_id,
                **registry.endpoints_of(row),
                "deployment_ids": [d.deployment_id for d in row.deployments],
                "new_deployments": row.new_deployments,
            },
        )
        pk = row.id
    services.registry_cache.clear()
    return pk


def rename_registration(
    services: Services, identity: AdminIdentity, registration_pk: int, new_name: str
) -> str:
    """Give a registration another name (Dynamic Registration names them after the host);
    audited old -> new. Returns the new name."""
    registration = get_registration(services, identity, registration_pk)
    new_name = new_name.strip()
    if not new_name or len(new_name) > 100:
        raise registry.RegistryError(
            "bad_name", "A registration's name is 1 to 100 characters long."
        )
    with services.db.unit_of_work() as session:
        row = session.get(Registration, registration_pk)
        assert row is not None
        row.name = new_name
        try:
            session.flush()
        except IntegrityError as exc:
            raise registry.RegistryError(
                "duplicate", f"a registration named {new_name!r} already exists"
            ) from exc
        record_admin_change(
            session,
            identity,
            action=RENAME,
            subject=registration_subject(registration_pk),
            old={"name": registration.name},
            new={"name": new_name},
        )
    services.registry_cache.clear()
    return new_name
