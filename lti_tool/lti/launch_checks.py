"""The claims of a launch whose signature, nonce and state ``lti/launch.py`` has verified.

Two checks, run in this order after the signature:
- ``check_message_claims``: the claims every launch message must carry, in the shape the tool
  reads them (LTI version, a known message type, ``sub``, ``roles``, ``deployment_id``, a
  resource link for a resource-link launch, a context with an id when there is a context);
- ``active_deployment_pk``: the deployment the launch names is known and active; an unknown one
  is recorded inactive for an administrator to activate, and both are refused.

Every failure is a plain-words ``LaunchRefused``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lti_tool.errors import LaunchRefused
from lti_tool.lti import claims as c
from lti_tool.lti import registry
from lti_tool.lti.collaborators import LoginParts
from lti_tool.lti.registry_cache import RegistrationRow, platform_origins


def check_message_claims(body: Mapping[str, Any]) -> None:
    """Refuse a verified id_token body that lacks a claim the launch needs, or has it malformed."""
    if body.get(c.VERSION) != c.LTI_VERSION:
        raise LaunchRefused(
            "wrong_version",
            f"The launch declares LTI version {body.get(c.VERSION)!r}; 1.3.0 is required.",
        )
    message_type = body.get(c.MESSAGE_TYPE)
    if not message_type:
        raise LaunchRefused("missing_message_type", "The launch has no message_type claim.")
    if message_type not in c.KNOWN_MESSAGE_TYPES:
        raise LaunchRefused(
            "unknown_message_type", f"The message type {message_type!r} is not supported."
        )
    if not isinstance(body.get("sub"), str) or not body["sub"].strip():
        raise LaunchRefused("missing_sub", "The launch does not identify the user (sub).")
    if c.ROLES not in body:
        raise LaunchRefused("missing_roles", "The launch has no roles claim.")
    if not isinstance(body[c.ROLES], list):
        raise LaunchRefused("bad_roles", "The launch's roles claim is not a list.")
    deployment_id = body.get(c.DEPLOYMENT_ID)
    if not isinstance(deployment_id, str) or not deployment_id.strip():
        raise LaunchRefused("missing_deployment_id", "The launch has no deployment_id claim.")
    link = body.get(c.RESOURCE_LINK)
    if message_type == c.RESOURCE_LINK_REQUEST and (
        not isinstance(link, dict) or not isinstance(link.get("id"), str) or not link["id"]
    ):
        raise LaunchRefused("missing_resource_link", "The launch has no resource_link id claim.")
    context = body.get(c.CONTEXT)
    if context is not None and (not isinstance(context, dict) or not context.get("id")):
        raise LaunchRefused("bad_context", "The launch's context claim has no id.")


def active_deployment_pk(parts: LoginParts, row: RegistrationRow, deployment_id: str) -> int:
    """The primary key of the registration's active deployment ``deployment_id``.

    An unknown deployment is recorded (inactive) so that an administrator can activate it; an
    unknown or inactive one is refused with a page the platform may frame, since the launch's
    signature is verified by now.
    """
    pk = parts.registry_cache.active_deployment_pk(row.pk, deployment_id)
    active = pk is not None
    if pk is None:
        with parts.db.unit_of_work() as session:
            deployment = registry.find_deployment(session, row.pk, deployment_id)
            if deployment is None:
                registry.record_unknown_deployment(session, row.pk, deployment_id)
            else:
                pk = deployment.id
    if pk is None or not active:
        raise LaunchRefused(
            "inactive_deployment" if pk else "unknown_deployment",
            f"Deployment {deployment_id!r} of platform {row.name!r} is not active "
            "yet. An administrator of the tool must activate it "
            f"(lti-tool platform activate-deployment {row.name} {deployment_id}).",
            status=403,
            # The signature is verified by now: this platform may show the refusal.
            frame_origins=platform_origins(row.kind, row.issuer, row.auth_login_url),
        )
    return pk
