"""LTI Dynamic Registration, what the tool stores: the registration the platform made (a new
one, or an existing one for the same issuer and client_id updated when the admin confirmed)
and its deployment, under a free name.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.lti import registry
from lti_tool.lti.dynamic_registration import PlatformConfiguration, RegistrationRefused
from lti_tool.lti.dynamic_registration_response import RegistrationResult
from lti_tool.persistence.models import Deployment, Registration

_NAME_SAFE = re.compile(r"[^a-z0-9._-]+")


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


def save_registration(
    session: Session,
    config: PlatformConfiguration,
    result: RegistrationResult,
    *,
    active: bool,
    replace: bool,
    development: bool,
) -> tuple[Registration, bool, bool]:
    """Store the registration and its deployment; returns it, whether an existing one with the
    same issuer + client_id was updated, and whether the deployment is active."""
    registration = registry.find_registration(session, config.issuer, result.client_id)
    replaced = registration is not None
    if registration is not None:
        if not replace:
            raise RegistrationRefused(
                "duplicate_registration",
                f"{config.product} issued client_id {result.client_id!r}, but the tool already "
                f"has a registration {registration.name!r} for that issuer and client_id. Start "
                "again from your LMS and confirm the replacement.",
                status=409,
            )
        registration.kind = config.kind
        registration.auth_login_url = config.authorization_endpoint
        registration.auth_token_url = config.token_endpoint
        registration.key_set_url = config.jwks_uri
    else:
        registration = registry.add_platform(
            session,
            registry.PlatformSpec(
                name=unique_name(session, registration_base_name(config)),
                issuer=config.issuer,
                client_id=result.client_id,
                auth_login_url=config.authorization_endpoint,
                auth_token_url=config.token_endpoint,
                key_set_url=config.jwks_uri,
                kind=config.kind,
            ),
            development=development,
        )
    deployment_active = False
    if result.deployment_id:
        deployment = registry.find_deployment(session, registration.id, result.deployment_id)
        if deployment is None:
            deployment = Deployment(
                registration_id=registration.id, deployment_id=result.deployment_id, active=active
            )
            session.add(deployment)
        elif active:
            deployment.active = True
        session.flush()
        deployment_active = deployment.active
    return registration, replaced, deployment_active
