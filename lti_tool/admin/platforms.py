"""Registrations and their deployments as admins see and change them.

A deployment is *waiting for approval* when it is inactive and no admin ever deactivated it:
Dynamic Registration in ``approve`` mode and a launch from an unknown deployment both record
deployments that way (``lti/dynreg/flow.py``, ``registry.record_unknown_deployment``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.admin.audit_log import record_admin_change, registration_subject
from lti_tool.admin.identity import AdminIdentity, check_scope
from lti_tool.container import Services
from lti_tool.errors import Forbidden, NotFound
from lti_tool.lti import registry
from lti_tool.persistence.models import (
    AuditEntry,
    CompletionSourceConfig,
    Deployment,
    Registration,
)

DEACTIVATE = "deployment.deactivate"
ACTIVATE = "deployment.activate"


@dataclass(frozen=True)
class DeploymentView:
    pk: int
    deployment_id: str
    active: bool
    created_at: dt.datetime
    awaiting_approval: bool


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

    @property
    def awaiting_approval(self) -> list[DeploymentView]:
        return [d for d in self.deployments if d.awaiting_approval]


def deployment_subject(registration_pk: int, deployment_pk: int) -> str:
    return registration_subject(registration_pk, f"deployment:{deployment_pk}")


def _view(session: Session, row: Registration, deactivated: set[str]) -> RegistrationView:
    source = session.get(CompletionSourceConfig, row.id)
    return RegistrationView(
        pk=row.id,
        name=row.name,
        kind=row.kind,
        issuer=row.issuer,
        client_id=row.client_id,
        created_at=row.created_at,
        source_kind=source.kind if source is not None else None,
        deployments=[
            DeploymentView(
                pk=d.id,
                deployment_id=d.deployment_id,
                active=d.active,
                created_at=d.created_at,
                awaiting_approval=not d.active
                and deployment_subject(row.id, d.id) not in deactivated,
            )
            for d in row.deployments
        ],
    )


def _deactivated_subjects(session: Session) -> set[str]:
    rows = session.scalars(
        select(AuditEntry.subject).where(AuditEntry.action == DEACTIVATE).distinct()
    )
    return {subject for subject in rows if subject}


def list_registrations(services: Services, identity: AdminIdentity) -> list[RegistrationView]:
    """The registrations the admin may see, by name, with their deployments."""
    with services.db.read_only() as session:
        query = select(Registration).order_by(Registration.name)
        if identity.registration_pk is not None:
            query = query.where(Registration.id == identity.registration_pk)
        deactivated = _deactivated_subjects(session)
        return [_view(session, row, deactivated) for row in session.scalars(query)]


def get_registration(services: Services, identity: AdminIdentity, pk: int) -> RegistrationView:
    """One registration in the admin's scope (NotFound otherwise)."""
    check_scope(identity, pk)
    with services.db.read_only() as session:
        row = session.get(Registration, pk)
        if row is None:
            raise NotFound("unknown_registration", "There is no such registration.")
        return _view(session, row, _deactivated_subjects(session))


def get_deployment(
    services: Services, identity: AdminIdentity, registration_pk: int, deployment_pk: int
) -> tuple[RegistrationView, DeploymentView]:
    """A deployment of a registration in scope, for the confirmation page."""
    registration = get_registration(services, identity, registration_pk)
    for deployment in registration.deployments:
        if deployment.pk == deployment_pk:
            return registration, deployment
    raise NotFound("unknown_deployment", "That registration has no such deployment.")


def set_deployment_active(
    services: Services,
    identity: AdminIdentity,
    registration_pk: int,
    deployment_pk: int,
    active: bool,
) -> DeploymentView:
    """Allow (or refuse) launches from a deployment; audited, and the launch cache of this
    process is cleared so the change holds at once (other workers within seconds)."""
    registration, deployment = get_deployment(services, identity, registration_pk, deployment_pk)
    if active and deployment.awaiting_approval and not identity.is_tool_admin:
        # Dynamic Registration in "approve" mode and launches from unknown deployments wait
        # for the people who run the tool, not for an administrator of the platform.
        raise Forbidden(
            "tool_admin_only",
            "A new deployment waits for a tool administrator's approval.",
        )
    with services.db.unit_of_work() as session:
        row = session.get(Deployment, deployment_pk)
        assert row is not None
        was = row.active
        registry.set_deployment_active(session, registration.name, deployment.deployment_id, active)
        record_admin_change(
            session,
            identity,
            action=ACTIVATE if active else DEACTIVATE,
            subject=deployment_subject(registration_pk, deployment_pk),
            old={"active": was},
            new={
                "active": active,
                "registration": registration.name,
                "deployment_id": deployment.deployment_id,
            },
        )
    services.registry_cache.clear()
    return get_deployment(services, identity, registration_pk, deployment_pk)[1]
