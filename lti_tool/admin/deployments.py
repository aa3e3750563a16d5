"""Switching a deployment on and off, and who may.

A deployment's approval is kept on its row (``lti/deployment_policy.py``), never worked out
from the audit log, so no order of steps by an LMS admin lets in what waits for a tool admin:

- a tool admin (or the command line) may activate any deployment, which approves it, and
  switching one off marks it switched off by a tool admin;
- an LMS admin may switch an approved deployment of their platform off and on again; a
  deployment never approved, or switched off by a tool admin, stays as it is when they switch
  it off and is refused to them when they switch it on.
"""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.admin.audit_log import record_admin_change
from lti_tool.admin.identity import AdminIdentity, require_tool_admin
from lti_tool.admin.platforms import (
    DeploymentView,
    RegistrationView,
    get_deployment,
    get_registration,
)
from lti_tool.audit import deployment_subject
from lti_tool.container import Services
from lti_tool.errors import Forbidden
from lti_tool.lti import deployment_policy as policy
from lti_tool.lti import registry
from lti_tool.persistence.locks import locked
from lti_tool.persistence.models import Deployment

DEACTIVATE = policy.DEPLOYMENT_DEACTIVATED
ACTIVATE = policy.DEPLOYMENT_ACTIVATED


def approval_after(identity: AdminIdentity, approval: str, active: bool) -> str:
    """A deployment's approval once ``identity`` switches it on (``active``) or off, from
    its ``approval`` now; Forbidden when an LMS admin switches on one that waits for a tool
    admin."""
    if identity.is_tool_admin:
        return policy.APPROVED if active else policy.SWITCHED_OFF
    if active and approval == policy.PENDING:
        # Dynamic Registration in "approve" mode and launches from unknown deployments wait
        # for the people who run the tool, not for an administrator of the platform.
        raise Forbidden(
            "tool_admin_only",
            "A new deployment waits for a tool administrator's approval.",
        )
    if active and approval == policy.SWITCHED_OFF:
        raise Forbidden(
            "tool_admin_only",
            "A tool administrator switched this deployment off, so only a tool "
            "administrator can switch it back on.",
        )
    return approval


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
    _switch(services, identity, registration, deployment.deployment_id, active)
    return get_deployment(services, identity, registration_pk, deployment_pk)[1]


def set_deployment_active_by_id(
    services: Services,
    identity: AdminIdentity,
    registration_pk: int,
    deployment_id: str,
    active: bool,
) -> DeploymentView:
    """The same by the platform's deployment id (the command line's way); an id not seen yet
    is added (by tool admins only), so a tool admin can approve a deployment before its
    first launch."""
    registration = get_registration(services, identity, registration_pk)
    deployment_pk = _switch(services, identity, registration, deployment_id, active)
    return get_deployment(services, identity, registration_pk, deployment_pk)[1]


def _switch(
    services: Services,
    identity: AdminIdentity,
    registration: RegistrationView,
    deployment_id: str,
    active: bool,
) -> int:
    """Switch the deployment on or off (adding it when new) and audit it; returns its pk.
    The approval it is decided on is read under a lock, so a tool admin's switching off at
    the same moment is not undone by an LMS admin's switching on. Nothing is written when
    nothing changes."""
    with services.db.unit_of_work() as session:
        existing = locked(
            session,
            select(Deployment).where(
                Deployment.registration_id == registration.pk,
                Deployment.deployment_id == deployment_id,
            ),
        )
        if existing is None:
            require_tool_admin(identity, "Adding a deployment before its first launch")
            old = None
            approval = policy.APPROVED if active else policy.SWITCHED_OFF
        else:
            old = {"active": existing.active, "approval": existing.approval}
            approval = approval_after(identity, existing.approval, active)
            if old == {"active": active, "approval": approval}:
                return existing.id
        row = registry.set_deployment_active(
            session, registration.name, deployment_id, active, approval
        )
        record_admin_change(
            session,
            identity,
            action=ACTIVATE if active else DEACTIVATE,
            subject=deployment_subject(registration.pk, row.id),
            old=old,
            new={
                "active": active,
                "approval": approval,
                "registration": registration.name,
                "deployment_id": deployment_id,
            },
        )
        deployment_pk = row.id
    services.registry_cache.clear()
    return deployment_pk
