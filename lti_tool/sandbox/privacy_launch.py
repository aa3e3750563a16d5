"""The sandbox's Data Privacy Launch, shaped as Canvas sends it: message type
``DataPrivacyLaunchRequest``, the ``for_user`` claim naming the person concerned, and no
resource link, course or services (the launcher is often an administrator)."""

from __future__ import annotations

from typing import Any

from lti_tool.lti import claims as c
from lti_tool.sandbox.demo_people import DEMO_USERS
from lti_tool.sandbox.platform import SandboxPlatform

MESSAGE_TYPE = "DataPrivacyLaunchRequest"


def privacy_claims(
    platform: SandboxPlatform, user: str, nonce: str, for_user: str
) -> dict[str, Any]:
    """The claims of a privacy launch by ``user`` about ``for_user`` (both demo user keys)."""
    if for_user not in DEMO_USERS:
        raise KeyError(for_user)
    person = DEMO_USERS[for_user]
    claims = platform.launch_claims(user, nonce)
    for claim in (c.RESOURCE_LINK, c.CONTEXT, c.NRPS, c.AGS, c.GROUPS_SERVICE):
        claims.pop(claim, None)
    claims[c.MESSAGE_TYPE] = MESSAGE_TYPE
    claims[c.FOR_USER] = {
        "user_id": person.sub,
        "person_sourcedid": person.key.upper(),
        "given_name": person.given_name,
        "family_name": person.family_name,
        "name": person.name,
        "email": person.email,
        "roles": list(person.roles),
    }
    return claims
