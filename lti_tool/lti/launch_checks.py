"""The claims of a launch whose signature, nonce and state ``lti/launch.py`` has verified.

Before the signature (and the fetch of the platform's keys), ``held_deployment`` refuses a
launch naming no deployment and finds one held or switched off; ``platform_key`` then fetches
the keys from public addresses only for such a launch, or for a registration Dynamic
Registration made that nobody has let in (``keys_public_only``), and refuses a held one whose
keys cannot be had so. Both read an unverified claim, so they only make the launch more
guarded, never let it in. Then two checks, run in this order after the signature:
- ``check_message_claims``: the claims every launch message must carry, in the shape the tool
  reads them (LTI version, a known message type, ``sub``, ``roles``, ``deployment_id``, a
  resource link for a resource-link launch, a context with an id when there is a context);
- ``active_deployment_pk``: the deployment the launch names is known and active. One never
  seen before is recorded (and audited) as its registration's ``new_deployments`` policy says:
  active under ``accept`` (the launch goes on), inactive under ``hold`` (refused until an
  administrator approves it). A known inactive one is refused whatever the policy.

Every failure is a plain-words ``LaunchRefused``.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from jwt import PyJWK

from lti_tool.errors import LaunchRefused, UpstreamError
from lti_tool.logs import log_event
from lti_tool.lti import claims as c
from lti_tool.lti.collaborators import LaunchParts, LoginParts
from lti_tool.lti.deployment_policy import PENDING, activation_command, record_seen_deployment
from lti_tool.lti.dynreg.records import awaiting_approval
from lti_tool.lti.registry import find_deployment
from lti_tool.lti.registry_cache import RegistrationRow, platform_origins

log = logging.getLogger("lti_tool.launch")
# The admin page of a registration (the admin blueprint is mounted at /admin).
REGISTRATION_PAGE = "/admin/registrations/{pk}"
DEPLOYMENT_ID_MAX = 255  # models.Deployment.deployment_id
SUB_MAX = 255  # LTI 1.3 Core 5.3.6; models.User.sub
# Claims the specifications define as JSON objects (Core 5.3-5.4, AGS 3.1, NRPS 3.6.1, Deep
# Linking 4.4.1, Submission Review 2.2.1): pylti1p3 and the tool call .get() on them.
OBJECT_CLAIMS = {
    c.CONTEXT: "context",
    c.RESOURCE_LINK: "resource_link",
    c.TOOL_PLATFORM: "tool_platform",
    c.LAUNCH_PRESENTATION: "launch_presentation",
    c.CUSTOM: "custom",
    c.LIS: "lis",
    c.AGS: "Assignment and Grade Services endpoint",
    c.NRPS: "Names and Role service",
    c.DEEP_LINKING_SETTINGS: "deep_linking_settings",
    c.FOR_USER: "for_user",
}
# The object claims a message type cannot do without.
REQUIRED_OBJECTS = {
    c.DEEP_LINKING_REQUEST: (c.DEEP_LINKING_SETTINGS,),
    c.SUBMISSION_REVIEW_REQUEST: (c.AGS, c.FOR_USER),
}


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
    if not isinstance(message_type, str):
        raise LaunchRefused("bad_message_type", "The launch's message_type claim is not text.")
    if message_type not in c.KNOWN_MESSAGE_TYPES:
        raise LaunchRefused(
            "unknown_message_type", f"The message type {message_type!r} is not supported."
        )
    if "sub" not in body:
        # LTI 1.3 Core 5.3.6.1: no sub is an anonymous user's launch, valid as such. This tool
        # keeps each person's own checklist and results, so it has nothing to show an anonymous
        # user: it declines in plain words (403: the launch is sound, the tool says no).
        raise LaunchRefused(
            "anonymous_launch",
            "The course opened the pathway tool without saying who you are (an anonymous "
            "launch). The tool shows each person their own checklist and results, so it opens "
            "only for a signed-in person whose course shares who they are with the tool. If you "
            "are signed in, please tell your course team.",
            status=403,
        )
    if not isinstance(body.get("sub"), str) or not body["sub"].strip():
        raise LaunchRefused("missing_sub", "The launch does not identify the user (sub).")
    if len(body["sub"]) > SUB_MAX:
        # Core 5.3.6: sub "MUST NOT exceed 255 ASCII characters in length".
        raise LaunchRefused(
            "bad_sub", f"The launch's user id (sub) is longer than {SUB_MAX} characters."
        )
    _check_objects(body, message_type)
    if c.ROLES not in body:
        raise LaunchRefused("missing_roles", "The launch has no roles claim.")
    if not isinstance(body[c.ROLES], list):
        raise LaunchRefused("bad_roles", "The launch's roles claim is not a list.")
    deployment_id = body.get(c.DEPLOYMENT_ID)
    if not isinstance(deployment_id, str) or not deployment_id.strip():
        raise LaunchRefused("missing_deployment_id", "The launch has no deployment_id claim.")
    if len(deployment_id) > DEPLOYMENT_ID_MAX:
        # A new one is recorded: longer than its column holds, PostgreSQL would refuse it.
        raise LaunchRefused(
            "bad_deployment_id",
            f"The launch's deployment_id claim is longer than {DEPLOYMENT_ID_MAX} characters.",
        )
    link = body.get(c.RESOURCE_LINK)
    if message_type == c.RESOURCE_LINK_REQUEST and (
        not isinstance(link, dict) or not isinstance(link.get("id"), str) or not link["id"]
    ):
        raise LaunchRefused("missing_resource_link", "The launch has no resource_link id claim.")
    context = body.get(c.CONTEXT)
    if context is not None and (not isinstance(context, dict) or not context.get("id")):
        raise LaunchRefused("bad_context", "The launch's context claim has no id.")


def _check_objects(body: Mapping[str, Any], message_type: str) -> None:
    """Refuse a claim the specifications define as an object when it is something else, and
    a missing one that ``message_type`` needs."""
    for claim in REQUIRED_OBJECTS.get(message_type, ()):
        if claim not in body:
            raise LaunchRefused(
                "missing_claim",
                f"The {message_type} launch has no {OBJECT_CLAIMS[claim]} claim.",
            )
    for claim, name in OBJECT_CLAIMS.items():
        if claim in body and not isinstance(body[claim], dict):
            raise LaunchRefused("bad_claim", f"The launch's {name} claim is not an object.")


def active_deployment_pk(parts: LoginParts, row: RegistrationRow, deployment_id: str) -> int:
    """The primary key of the registration's active deployment ``deployment_id``.

    Runs only after the launch's signature, issuer, audience, nonce and claims are verified:
    nothing is recorded for a launch that fails any of them. A deployment never seen before
    is recorded as the registration's policy says (``deployment_policy.record_seen_deployment``); an
    inactive one is refused with a page the platform may frame, saying who must approve it
    where.
    """
    pk = parts.registry_cache.active_deployment_pk(row.pk, deployment_id)
    if pk is not None:
        return pk
    with parts.db.unit_of_work() as session:
        seen = record_seen_deployment(session, row.pk, deployment_id)
    if seen.created and seen.active:
        # The registration may have had no active deployment until now: it may frame the
        # tool from this launch on, and its next launch finds the deployment in the cache.
        parts.registry_cache.clear()
        log_event(
            log,
            logging.INFO,
            "new deployment accepted",
            registration=row.name,
            deployment_id=deployment_id,
        )
    if seen.active:
        return seen.pk
    _refuse(parts, row, deployment_id, first_seen=seen.created, switched_off=seen.deactivated)


@dataclass(frozen=True)
class HeldDeployment:
    """A recorded deployment, not active, that an unverified launch names."""

    deployment_id: str
    switched_off: bool


def held_deployment(
    parts: LoginParts, row: RegistrationRow, deployment_id: Any
) -> HeldDeployment | None:
    """Before the launch's signature is checked: refuse a launch that names no deployment
    (nothing is fetched for it), and say whether the one it names is recorded and not active
    (held for approval or switched off). The claim is not verified yet: what this finds may
    only make the launch more guarded (``lti/launch.py``), never let it in."""
    if not isinstance(deployment_id, str) or not deployment_id.strip():
        raise LaunchRefused("missing_deployment_id", "The launch has no deployment_id claim.")
    if len(deployment_id) > DEPLOYMENT_ID_MAX:
        return None  # none is recorded; check_message_claims refuses it once verified
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in deployment_id):
        # NUL or a lone surrogate would fail the lookup on PostgreSQL; no deployment has one.
        raise LaunchRefused(
            "bad_deployment_id", "The launch's deployment_id claim holds control characters."
        )
    if parts.registry_cache.active_deployment_pk(row.pk, deployment_id) is not None:
        return None
    with parts.db.read_only() as session:
        known = find_deployment(session, row.pk, deployment_id)
        if known is None or known.active:
            return None
        return HeldDeployment(deployment_id, switched_off=known.approval != PENDING)


def platform_key(
    parts: LaunchParts, row: RegistrationRow, held: HeldDeployment | None, kid: str, alg: str
) -> PyJWK:
    """The platform's key ``kid``. Fetched from public addresses only (whatever
    ``outbound_allowed_hosts`` opens) for a launch naming a held deployment, or from a
    registration Dynamic Registration made that nobody has let in; a held deployment whose
    keys cannot be had so is refused in words that name no fetch (not verified: no frame
    origins), what failed is in the log."""
    try:
        return parts.platform_keys.verification_key(
            row.key_set_url,
            kid,
            alg,
            public_only=lambda: held is not None or keys_public_only(parts, row.pk),
        )
    except UpstreamError:
        if held is None:
            raise
        _refuse(
            parts,
            row,
            held.deployment_id,
            first_seen=False,
            switched_off=held.switched_off,
            verified=False,
        )


def keys_public_only(parts: LoginParts, registration_pk: int) -> bool:
    """Whether the registration's platform keys are fetched from public addresses only: one
    Dynamic Registration made (anyone may have) that nobody has let in yet."""
    with parts.db.read_only() as session:
        return awaiting_approval(session, registration_pk)


def _refuse(
    parts: LoginParts,
    row: RegistrationRow,
    deployment_id: str,
    *,
    first_seen: bool,
    switched_off: bool,
    verified: bool = True,
) -> NoReturn:
    log_event(
        log,
        logging.WARNING,
        "deployment not active",
        registration=row.name,
        deployment_id=deployment_id,
        first_seen=first_seen,
        switched_off=switched_off,
        # For the people who run the tool; the page shows the admin page's address instead.
        command=activation_command(row.name, deployment_id),
    )
    raise LaunchRefused(
        "inactive_deployment" if switched_off else "deployment_not_approved",
        refusal_words(parts, row, deployment_id, switched_off=switched_off),
        status=403,
        # Once the signature is verified, this platform may show the refusal.
        frame_origins=platform_origins(row.kind, row.issuer, row.auth_login_url)
        if verified
        else (),
    )


def refusal_words(
    parts: LoginParts, row: RegistrationRow, deployment_id: str, *, switched_off: bool
) -> str:
    """What the person launching reads, to pass on to whoever can act: an LMS administrator's
    words and the address of the registration's admin page, never a command."""
    page = parts.settings.url_for_tool(REGISTRATION_PAGE.format(pk=row.pk))
    if switched_off:
        return (
            "This course's learning platform is connected to the tool, but this installation "
            f"of it (deployment {deployment_id}) has been switched off by an administrator. "
            f"Ask the tool's administrator to switch it back on at {page}."
        )
    return (
        "This course's learning platform is connected to the tool, but this installation of "
        f"it (deployment {deployment_id}) has not been approved yet. Ask the tool's "
        f"administrator to approve it at {page}."
    )
