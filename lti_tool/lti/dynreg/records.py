"""LTI Dynamic Registration, what the tool stores: the new registration the platform made and
its deployment, under a free name, and what the done page says of it (``InstallOutcome``).
Never an existing registration: whoever can reach ``/lti/register`` can run this, so
changing a registration's endpoints or keys is a tool administrator's act
(``admin/registration_endpoints.py``, ``lti-tool platform set-endpoints``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.audit import ADMIN_KEY, audit, registration_subject
from lti_tool.lti import registry
from lti_tool.lti.deployment_policy import ACCEPT, APPROVED, HOLD, PENDING
from lti_tool.lti.dynreg.configuration import PlatformConfiguration, RegistrationRefused
from lti_tool.lti.dynreg.response import RegistrationResult
from lti_tool.lti.dynreg.sites import Site, site_of
from lti_tool.persistence.models import AuditEntry, Deployment, Registration
from lti_tool.urls import split_web_url

CREATED = "dynreg.created"
REFUSED = "dynreg.refused"
_NAME_SAFE = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True)
class InstallOutcome:
    """What happened, for the done page."""

    name: str
    config: PlatformConfiguration
    client_id: str
    deployment_id: str | None
    active: bool
    requested_scopes: tuple[str, ...]
    granted_scopes: tuple[str, ...] | None = field(default=None)
    new_deployments: str = HOLD
    # The address of the registration's page in the tool's admin: the done page names it
    # when a tool administrator must approve (the LMS admin reading it runs no commands).
    admin_page: str = ""

    @property
    def scopes_refused(self) -> list[str]:
        """Scopes asked for that the platform did not grant (it may narrow them)."""
        if self.granted_scopes is None:
            return []
        return [s for s in self.requested_scopes if s not in self.granted_scopes]

    @property
    def needs_attention(self) -> bool:
        """Something is left for an admin (approval, a deployment not named yet that its first
        launch will not let in, fewer scopes): the done page then stays open instead of
        closing the LMS's frame at once."""
        waits = not self.active if self.deployment_id else self.new_deployments != ACCEPT
        return waits or bool(self.scopes_refused)


def registration_base_name(config: PlatformConfiguration) -> str:
    """``<product family>-<host>``, e.g. ``moodle-127.0.0.1:8080`` or
    ``canvas-school.instructure.com`` (the configuration's host: Canvas's issuer is shared)."""
    family = _NAME_SAFE.sub("-", config.product_family_code.lower()).strip("-") or "lti"
    return f"{family}-{config.host}"[:90]


def unique_name(session: Session, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``… whichever is free."""
    taken = set(
        session.scalars(select(Registration.name).where(Registration.name.like(base + "%")))
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


REGISTRATION_EXISTS = "registration_exists"
CLIENT_IN_USE = "client_in_use"


def registration_exists(config: PlatformConfiguration) -> RegistrationRefused:
    """The refusal when the platform's answer names a registration the tool already has."""
    return RegistrationRefused(
        REGISTRATION_EXISTS,
        f"This tool already has a registration for {config.product} with the client ID your "
        "platform just issued. Dynamic Registration only adds new platforms; it never changes "
        "one the tool already knows. Remove the tool you just registered in your LMS and ask "
        "the administrator of this tool to update the existing registration instead.",
        status=409,
    )


def client_in_use(config: PlatformConfiguration) -> RegistrationRefused:
    """The refusal when another registration already uses the client ID the platform's
    answer gives, at the same token endpoint: the tool would sign in as that client."""
    return RegistrationRefused(
        CLIENT_IN_USE,
        f"Another platform registered with this tool already uses the client ID your "
        f"{config.product} just issued, at the same address for access tokens. The tool does "
        "not sign in as one platform's client for another, so nothing was registered. Remove "
        "the tool you just registered in your LMS and ask the administrator of this tool.",
        status=409,
    )


@dataclass(frozen=True)
class Conflict:
    """A registration the new one would collide with, and the refusal's code."""

    registration_pk: int
    code: str


def _token_endpoint(url: str) -> tuple[Site, str] | None:
    """The token endpoint as compared: its site and path (no trailing slash); the host's
    case, a default port written out or a query do not make another endpoint."""
    site, parts = site_of(url), split_web_url(url)
    if site is None or parts is None:
        return None
    return site, parts.path.rstrip("/")


def conflicting_registration(
    session: Session, issuer: str, token_endpoint: str, client_id: str
) -> Conflict | None:
    """The registration, active or not, that already has this issuer and client_id
    (``registration_exists``), or else one using this client_id at the same token endpoint
    (``client_in_use``): the client assertion the tool signs for one would be good for the
    other."""
    same_client = session.execute(
        select(Registration.id, Registration.issuer, Registration.auth_token_url).where(
            Registration.client_id == client_id
        )
    ).all()
    for pk, known_issuer, _ in same_client:
        if known_issuer == issuer:
            return Conflict(pk, REGISTRATION_EXISTS)
    wanted = _token_endpoint(token_endpoint)
    for pk, _, known_token_endpoint in same_client:
        if wanted is None or _token_endpoint(known_token_endpoint) == wanted:
            return Conflict(pk, CLIENT_IN_USE)
    return None


def registration_facts(config: PlatformConfiguration, result: RegistrationResult) -> dict[str, Any]:
    """What the audit entries of an install (created or refused) say of it."""
    return {
        "issuer": config.issuer,
        "client_id": result.client_id,
        "deployment_id": result.deployment_id,
        "configuration_url": config.configuration_url,
        # Names the actor on the admin audit page: nobody signed in did this.
        ADMIN_KEY: f"Dynamic Registration from {config.host}",
    }


def audit_refusal(
    session: Session, config: PlatformConfiguration, client_id: str, facts: dict[str, Any]
) -> Conflict | None:
    """Audit (``dynreg.refused``) an answer refused for naming another registration's client,
    under that registration; returns the conflict found."""
    conflict = conflicting_registration(session, config.issuer, config.token_endpoint, client_id)
    audit(
        session,
        action=REFUSED,
        actor_user_pk=None,
        context_pk=None,
        subject=registration_subject(conflict.registration_pk) if conflict else None,
        new={**facts, "auth_token_url": config.token_endpoint},
        reason=(
            "The platform's answer names a registration the tool already has."
            if conflict is None or conflict.code == REGISTRATION_EXISTS
            else "The platform's answer gives a client ID another registration uses at the "
            "same token endpoint."
        ),
    )
    return conflict


def save_registration(
    session: Session,
    config: PlatformConfiguration,
    result: RegistrationResult,
    *,
    mode: str,
    development: bool,
) -> tuple[Registration, bool]:
    """Store a NEW registration (with its policy for deployments it has not seen yet:
    ``new_deployments_policy``) and its deployment, active in ``open`` mode, and audit it
    (``dynreg.created``); returns it and whether the deployment is active. An
    unauthenticated visitor runs this flow, so a registration the tool already has (same
    issuer and client_id, active or not) is never changed: that is refused with
    ``registration_exists`` and left to a tool administrator (admin page or CLI); nor is a
    second registration made for a client ID another one uses at the same token endpoint
    (``client_in_use``)."""
    conflict = conflicting_registration(
        session, config.issuer, config.token_endpoint, result.client_id
    )
    if conflict is not None:
        raise (registration_exists if conflict.code == REGISTRATION_EXISTS else client_in_use)(
            config
        )
    try:
        registration = registry.add_platform(
            session,
            registry.PlatformSpec(
                name=unique_name(session, registration_base_name(config)),
                issuer=config.issuer,
                client_id=result.client_id,
                auth_login_url=config.authorization_endpoint,
                auth_token_url=config.token_endpoint,
                key_set_url=config.jwks_uri,
                auth_audience=config.auth_audience,
                kind=config.kind,
                new_deployments=new_deployments_policy(config, mode),
            ),
            development=development,
        )
    except registry.RegistryError as exc:
        if exc.code == "duplicate":  # a concurrent install of the same client_id won
            raise registration_exists(config) from exc
        raise
    deployment_active = False
    if result.deployment_id:
        deployment = Deployment(
            registration_id=registration.id,
            deployment_id=result.deployment_id,
            active=mode == "open",
            approval=APPROVED if mode == "open" else PENDING,
        )
        session.add(deployment)
        session.flush()
        deployment_active = deployment.active
    audit(
        session,
        action=CREATED,
        actor_user_pk=None,
        context_pk=None,
        subject=registration_subject(registration.id),
        new={
            **registration_facts(config, result),
            "registration": registration.name,
            "auth_login_url": config.authorization_endpoint,
            "auth_token_url": config.token_endpoint,
            "key_set_url": config.jwks_uri,
            "active": deployment_active,
            "new_deployments": registration.new_deployments,
        },
    )
    return registration, deployment_active


def awaiting_approval(session: Session, registration_pk: int) -> bool:
    """Whether the registration was made by Dynamic Registration (its ``dynreg.created``
    entry) and has no active deployment yet: a stranger may have made it, and nobody who runs
    the tool has let it in. Its platform keys are then fetched from public addresses only
    (``lti/launch.py``), whatever ``outbound_allowed_hosts`` opens."""
    made_here = session.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.action == CREATED,
            AuditEntry.subject == registration_subject(registration_pk),
        )
        .limit(1)
    )
    if made_here is None:
        return False
    active = session.scalar(
        select(Deployment.id)
        .where(Deployment.registration_id == registration_pk, Deployment.active)
        .limit(1)
    )
    return active is None


def new_deployments_policy(config: PlatformConfiguration, mode: str) -> str:
    """What a registration made by Dynamic Registration does with deployments it has not
    seen: Canvas's come after the registration, when its administrator installs the app, so
    they are accepted in ``open`` mode. In ``approve`` mode nothing a visitor of
    ``/lti/register`` set up is let in without a tool administrator (a product family is
    only what the configuration claims), and Moodle names its one deployment in its answer."""
    return ACCEPT if config.kind == "canvas" and mode == "open" else HOLD
