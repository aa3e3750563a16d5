"""Deep Linking 2.0, the steps: open the picker (the request's settings kept server-side), sign
the response for the chosen items; and which module a placed link opens at. Reading the
settings is in ``settings``, building the items and claims in
``response``.

pylti1p3 2.0.0 has ``DeepLink`` and ``DeepLinkResource``; they are not used because
``DeepLink.encode_jwt`` takes the kid from the registration instead of our key table and always
sends a ``data`` claim (null when the request had none), and ``DeepLinkResource.to_dict`` writes
``"title": null`` / ``"url": null`` when unset, has no ``text``, and drops the presentation
target it stores (no ``iframe`` / ``window``). Its response form does not escape the return URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import jwt

from lti_tool.errors import Forbidden, LaunchRefused, NotAuthenticated, ToolError
from lti_tool.lti.collaborators import SigningParts
from lti_tool.lti.deeplink.response import (
    Choice,
    Offers,
    content_item,
    response_claims,
    select_choices,
)
from lti_tool.lti.deeplink.settings import (
    DeepLinkingRefused,
    DeepLinkingSettings,
    own_title,
    trimmed_text,
)
from lti_tool.lti.keys import ALGORITHM, active_signing_key, private_pem
from lti_tool.lti.sessions import LaunchSession

_STORE_KIND = "deep_link"
_MODULE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def focus_module(custom: Any) -> str | None:
    """The module a placed assessment link opens at (custom ``view=assessment&module=…``)."""
    if not isinstance(custom, Mapping) or custom.get("view") != "assessment":
        return None
    module = custom.get("module")
    return module if isinstance(module, str) and _MODULE_CODE.match(module) else None


@dataclass(frozen=True)
class Picker:
    settings: DeepLinkingSettings
    choices: list[Choice]
    qualification_title: str


@dataclass(frozen=True)
class DeepLinkingResponse:
    return_url: str
    jwt: str
    items: list[dict[str, Any]]


def _require_staff(launch: LaunchSession) -> None:
    if not launch.is_staff:
        raise Forbidden(
            "deep_linking_staff_only",
            "Only course staff can choose what this tool places in a course. Ask your course "
            "team to add the link for you.",
        )


def open_picker(
    services: SigningParts,
    launch: LaunchSession,
    offers: Offers,
    verified_claim: Any | None = None,
) -> Picker:
    """Keep the request's settings server-side, bound to this launch session; say what can
    be placed (``offers``). ``verified_claim`` is the settings claim of the id_token this
    request has just validated, for when the launch session does not carry it."""
    _require_staff(launch)
    settings = DeepLinkingSettings.from_claim(
        launch.launch.deep_linking_settings or verified_claim, services.settings.tool_name
    )
    if not settings.accepts_resource_links:  # pylti1p3's validator refuses these already
        raise DeepLinkingRefused(
            "no_lti_links",
            "Your platform did not ask for LTI links, the only thing this tool "
            "can place. Add the tool to your course as an external tool or LTI activity instead.",
        )
    ttl = services.settings.launch_session_ttl_seconds
    services.store.put(_STORE_KIND, launch.token_hash, asdict(settings), ttl)
    return Picker(settings, list(offers.choices), offers.title)


def reopen_picker(services: SigningParts, launch: LaunchSession, offers: Offers) -> Picker:
    """The picker again, from the settings kept when it opened (after nothing was chosen)."""
    _require_staff(launch)
    return Picker(_stored_settings(services, launch), list(offers.choices), offers.title)


def _stored_settings(services: SigningParts, launch: LaunchSession) -> DeepLinkingSettings:
    stored = services.store.get(_STORE_KIND, launch.token_hash)
    if stored is None:
        raise NotAuthenticated(
            "no_deep_linking_request",
            "This choice has expired or was already sent. Start again from your course.",
        )
    return DeepLinkingSettings.from_dict(stored)


def respond(
    services: SigningParts,
    launch: LaunchSession,
    offers: Offers,
    keys: list[str],
    *,
    title: str | None = None,
    text: str | None = None,
) -> DeepLinkingResponse:
    """Sign the response for the chosen items (none: the spec's cancel). Single use."""
    _require_staff(launch)
    settings = _stored_settings(services, launch)
    chosen = select_choices(offers.choices, keys, settings)
    single = len(chosen) == 1
    launch_url = services.settings.url_for_tool("/lti/launch")
    items = [
        content_item(
            choice,
            launch_url,
            settings,
            title=own_title(title, services.settings.tool_name) if single else None,
            text=trimmed_text(text) if single else None,
        )
        for choice in chosen
    ]
    with services.db.read_only() as session:
        key = active_signing_key(session)
        if key is None:
            raise ToolError("no_signing_key", "The tool has no signing key.", status=503)
        kid, pem = key.kid, private_pem(key, services.secrets)
    msg = f"Added {len(items)} link(s) from {services.settings.tool_name}." if items else None
    claims = response_claims(launch.launch.registration, settings, items, msg=msg)
    token = jwt.encode(claims, pem, algorithm=ALGORITHM, headers={"kid": kid})
    if services.store.take(_STORE_KIND, launch.token_hash) is None:
        raise LaunchRefused("deep_linking_already_sent", "This choice was already sent.")
    return DeepLinkingResponse(settings.return_url, token, items)
