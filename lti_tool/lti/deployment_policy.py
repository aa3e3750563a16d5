"""What a registration does with a deployment it has never seen, and the record of a
deployment a verified launch names.

``new_deployments`` on a registration: ``accept`` records a new deployment active on its first
validly signed launch and lets the launch in; ``hold`` records it inactive and refuses the
launch until an administrator approves it. A deployment already recorded (held, approved or
deactivated) keeps its state whatever the policy says.

A deployment's ``approval`` (kept on its row) says who may let it in: one never approved
(``pending``) or switched off by a tool administrator (``switched_off``) waits for a tool
administrator; an ``approved`` one may be switched off and on again by an administrator of its
platform too. The rule for admins is in ``admin/deployments.py``.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.audit import ADMIN_KEY, audit, deployment_subject
from lti_tool.errors import NotFound, ToolError
from lti_tool.persistence.models import Deployment, Registration
from lti_tool.persistence.upsert import upsert

ACCEPT, HOLD = "accept", "hold"
NEW_DEPLOYMENT_POLICIES = (ACCEPT, HOLD)
# Audit actions of a deployment's state. The first two name the admin who changed it; the
# last two record a deployment's first signed launch, by the platform.
DEPLOYMENT_ACTIVATED = "deployment.activate"
DEPLOYMENT_DEACTIVATED = "deployment.deactivate"
DEPLOYMENT_ACCEPTED = "deployment.accepted"
DEPLOYMENT_HELD = "deployment.held"
# A deployment's approval (``deployments.approval``); an active deployment is APPROVED.
PENDING, APPROVED, SWITCHED_OFF = "pending", "approved", "switched_off"


def activation_command(registration: str, deployment_id: str) -> str:
    """The command that approves a held deployment, for the server log, safe to paste into a
    shell: the deployment id is whatever a platform (or a stranger's server) said."""
    return shlex.join(["lti-tool", "platform", "activate-deployment", registration, deployment_id])


class PolicyError(ToolError):
    """Not a policy for new deployments."""


def check_policy(policy: str) -> str:
    """``policy`` when it is one of ``NEW_DEPLOYMENT_POLICIES``; PolicyError otherwise."""
    if policy not in NEW_DEPLOYMENT_POLICIES:
        raise PolicyError(
            "bad_policy", f"new deployments must be one of {', '.join(NEW_DEPLOYMENT_POLICIES)}"
        )
    return policy


@dataclass(frozen=True)
class SeenDeployment:
    """A deployment named by a signed launch, as it stands once recorded."""

    pk: int
    active: bool
    created: bool  # first seen in this launch
    deactivated: bool  # an administrator switched it off (not merely never approved)


def record_seen_deployment(
    session: Session, registration_pk: int, deployment_id: str
) -> SeenDeployment:
    """Record a deployment a VERIFIED launch names (signature, iss, aud, nonce and claims
    checked by the caller): a new one is inserted active or inactive as the registration's
    ``new_deployments`` says, and audited with the platform as its actor; a known one is left
    as it is. Safe under concurrency: the insert is one ``ON CONFLICT DO NOTHING`` statement,
    so two first launches at once make one row and one audit entry."""
    registration = session.get(Registration, registration_pk)
    if registration is None:
        raise NotFound("unknown_registration", "There is no such registration.")
    existing = _find(session, registration_pk, deployment_id)
    if existing is None:
        accept = registration.new_deployments == ACCEPT
        inserted = upsert(
            session,
            Deployment,
            [
                {
                    "registration_id": registration_pk,
                    "deployment_id": deployment_id,
                    "active": accept,
                    "approval": APPROVED if accept else PENDING,
                }
            ],
            index_elements=["registration_id", "deployment_id"],
            update_columns=(),
            returning=[Deployment.__table__.c.id],
        ).scalar()
        if inserted is not None:
            audit(
                session,
                action=DEPLOYMENT_ACCEPTED if accept else DEPLOYMENT_HELD,
                actor_user_pk=None,
                context_pk=None,
                subject=deployment_subject(registration_pk, inserted),
                new={
                    "active": accept,
                    "registration": registration.name,
                    "deployment_id": deployment_id,
                    "new_deployments": registration.new_deployments,
                    # Names the actor on the admin audit page: nobody signed in did this.
                    ADMIN_KEY: f"first signed launch from {registration.name}",
                },
            )
            return SeenDeployment(pk=inserted, active=accept, created=True, deactivated=False)
        existing = _find(session, registration_pk, deployment_id)  # a racer won
        assert existing is not None
    return SeenDeployment(
        pk=existing.id,
        active=existing.active,
        created=False,
        deactivated=not existing.active and existing.approval != PENDING,
    )


def set_new_deployment_policy(session: Session, registration_pk: int, policy: str) -> str:
    """Set what the registration does with deployments it has never seen; returns the old
    policy. The caller audits it."""
    check_policy(policy)
    registration = session.get(Registration, registration_pk)
    if registration is None:
        raise NotFound("unknown_registration", "There is no such registration.")
    old = registration.new_deployments
    registration.new_deployments = policy
    session.flush()
    return old


def _find(session: Session, registration_pk: int, deployment_id: str) -> Deployment | None:
    return session.scalar(
        select(Deployment).where(
            Deployment.registration_id == registration_pk,
            Deployment.deployment_id == deployment_id,
        )
    )
