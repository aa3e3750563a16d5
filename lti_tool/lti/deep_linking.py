"""Deep Linking 2.0: what the tool offers to place in a course, and the signed response.

pylti1p3 2.0.0 has ``DeepLink`` and ``DeepLinkResource``; they are not used because
``DeepLink.encode_jwt`` takes the kid from the registration instead of our key table and always
sends a ``data`` claim (null when the request had none), and ``DeepLinkResource.to_dict`` writes
``"title": null`` / ``"url": null`` when unset, has no ``text``, and drops the presentation
target it stores (no ``iframe`` / ``window``). Its response form does not escape the return URL.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt

from lti_tool.container import Services
from lti_tool.errors import Forbidden, LaunchRefused, NotAuthenticated, ToolError
from lti_tool.lti import claims as c
from lti_tool.lti.keys import ALGORITHM, active_signing_key
from lti_tool.lti.sessions import LaunchSession
from lti_tool.rules import Qualification

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
CONTENT_ITEMS = DL + "content_items"
DATA = DL + "data"
MSG = DL + "msg"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
RESOURCE_LINK_ITEM = "ltiResourceLink"
RESPONSE_LIFETIME_SECONDS = 300
SCORE_MAXIMUM = 100
IFRAME_HEIGHT = 900
_STORE_KIND = "deep_link"
_MODULE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class DeepLinkingRefused(ToolError):
    title = "These links cannot be placed"


def _flag(value: Any, default: bool | None) -> bool | None:
    """A boolean setting; some platforms send the strings "true" / "false"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    return default


def _text(value: Any, limit: int = 1000) -> str | None:
    return value.strip()[:limit] if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True)
class DeepLinkingSettings:
    """The request's ``deep_linking_settings`` claim, as the tool honours it."""

    return_url: str
    accept_types: tuple[str, ...]
    targets: tuple[str, ...]
    # The spec gives no default; one item is valid whatever the platform accepts.
    accept_multiple: bool = False
    # None: the platform said nothing, so line items are sent and it may ignore them.
    accept_lineitem: bool | None = None
    auto_create: bool = False
    title: str | None = None
    text: str | None = None
    has_data: bool = False
    data: Any = None

    @classmethod
    def from_claim(cls, claim: Any) -> DeepLinkingSettings:
        if not isinstance(claim, Mapping):
            raise DeepLinkingRefused("no_deep_linking_settings", "The request had no settings.")
        return_url = claim.get("deep_link_return_url")
        if not isinstance(return_url, str) or urlsplit(return_url).scheme not in {"http", "https"}:
            raise DeepLinkingRefused(
                "bad_return_url", "The platform gave no usable deep_link_return_url."
            )

        def strings(name: str) -> tuple[str, ...]:
            value = claim.get(name)
            return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

        return cls(
            return_url=return_url,
            accept_types=strings("accept_types"),
            targets=strings("accept_presentation_document_targets"),
            accept_multiple=bool(_flag(claim.get("accept_multiple"), False)),
            accept_lineitem=_flag(claim.get("accept_lineitem"), None),
            auto_create=bool(_flag(claim.get("auto_create"), False)),
            title=_text(claim.get("title")),
            text=_text(claim.get("text")),
            has_data="data" in claim,
            data=claim.get("data"),
        )

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> DeepLinkingSettings:
        values = dict(stored)
        values["accept_types"] = tuple(values["accept_types"])
        values["targets"] = tuple(values["targets"])
        return cls(**values)

    @property
    def accepts_resource_links(self) -> bool:
        return RESOURCE_LINK_ITEM in self.accept_types


@dataclass(frozen=True)
class Choice:
    """One thing the tool can place: the checklist, or an assessment module with its grade."""

    key: str
    title: str
    text: str
    custom: dict[str, str]
    line_item: dict[str, Any] | None = None


def offered_choices(qualification: Qualification) -> list[Choice]:
    """The checklist (one per course) and one graded link per assessment module."""
    choices = [
        Choice(
            "checklist",
            "Qualification checklist",
            f"Each student's progress towards the {qualification.title}.",
            {"view": "checklist"},
        )
    ]
    for module in qualification.modules:
        label = f"{module.code} {module.title}"
        choices.append(
            Choice(
                module.code,
                label,
                f"Assessment module ({module.credits} credits): opens each student's checklist "
                f"at {module.code}.",
                {"view": "assessment", "module": module.code},
                {
                    "label": label,
                    "scoreMaximum": SCORE_MAXIMUM,
                    "resourceId": module.code,
                    "tag": module.code,
                },
            )
        )
    return choices


def select_choices(
    choices: Iterable[Choice], keys: Iterable[str], settings: DeepLinkingSettings
) -> list[Choice]:
    """The chosen items in the offered order; unknown keys and too many items are refused."""
    by_key = {choice.key: choice for choice in choices}
    wanted = list(dict.fromkeys(k for k in keys if k))
    unknown = [k for k in wanted if k not in by_key]
    if unknown:
        raise DeepLinkingRefused("unknown_item", f"Nothing called {unknown[0]!r} can be placed.")
    if len(wanted) > 1 and not settings.accept_multiple:
        raise DeepLinkingRefused(
            "one_item_only", "Your platform accepts one item at a time: choose just one."
        )
    return [choice for key, choice in by_key.items() if key in wanted]


def content_item(
    choice: Choice,
    launch_url: str,
    settings: DeepLinkingSettings,
    *,
    title: str | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    """The ``ltiResourceLink`` item for ``choice``."""
    item: dict[str, Any] = {
        "type": RESOURCE_LINK_ITEM,
        "title": title or choice.title,
        "text": text or choice.text,
        "url": launch_url,
        "custom": dict(choice.custom),
    }
    if choice.line_item is not None and settings.accept_lineitem is not False:
        item["lineItem"] = dict(choice.line_item)
    if "iframe" in settings.targets:
        item["iframe"] = {"height": IFRAME_HEIGHT}
    elif "window" in settings.targets:
        item["window"] = {"targetName": "clinical-leadership-pathway"}
    return item


def response_claims(
    launch_data: Mapping[str, Any],
    settings: DeepLinkingSettings,
    items: list[dict[str, Any]],
    *,
    msg: str | None = None,
) -> dict[str, Any]:
    """The ``LtiDeepLinkingResponse`` claims: from the tool (iss) to the platform (aud)."""
    issued = int(time.time())
    registration = launch_data["registration"]
    claims: dict[str, Any] = {
        "iss": registration["client_id"],
        "aud": registration["issuer"],
        "iat": issued,
        "exp": issued + RESPONSE_LIFETIME_SECONDS,
        "nonce": secrets.token_urlsafe(24),
        c.DEPLOYMENT_ID: launch_data["deployment"]["id"],
        c.MESSAGE_TYPE: DEEP_LINKING_RESPONSE,
        c.VERSION: c.LTI_VERSION,
        CONTENT_ITEMS: items,
    }
    if settings.has_data:
        claims[DATA] = settings.data
    if msg:
        claims[MSG] = msg
    return claims


def focus_module(custom: Any) -> str | None:
    """The module a placed assessment link opens at (custom ``view=assessment&module=…``)."""
    if not isinstance(custom, Mapping) or custom.get("view") != "assessment":
        return None
    module = custom.get("module")
    return module if isinstance(module, str) and _MODULE_CODE.match(module) else None


# -- services ------------------------------------------------------------------------------


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


def _choices(services: Services, launch: LaunchSession) -> tuple[list[Choice], str]:
    context = launch.data.get("context")
    with services.db.read_only() as session:
        qualification = services.catalog.for_context(
            session, int(context["pk"]) if context else None, launch.data.get("custom")
        )
    return offered_choices(qualification), qualification.title


def open_picker(
    services: Services, launch: LaunchSession, verified_claim: Any | None = None
) -> Picker:
    """Keep the request's settings server-side, bound to this launch session; say what can
    be placed. ``verified_claim`` is the settings claim of the id_token this request has just
    validated, for when the launch session does not carry it."""
    _require_staff(launch)
    settings = DeepLinkingSettings.from_claim(
        launch.data.get("deep_linking_settings") or verified_claim
    )
    if not settings.accepts_resource_links:  # pylti1p3's validator refuses these already
        raise DeepLinkingRefused(
            "no_lti_links",
            "Your platform did not ask for LTI links, the only thing this tool "
            "can place. Add the tool to your course as an external tool or LTI activity instead.",
        )
    ttl = services.settings.launch_session_ttl_seconds
    services.store.put(_STORE_KIND, launch.token_hash, asdict(settings), ttl)
    choices, title = _choices(services, launch)
    return Picker(settings, choices, title)


def respond(
    services: Services,
    launch: LaunchSession,
    keys: list[str],
    *,
    title: str | None = None,
    text: str | None = None,
) -> DeepLinkingResponse:
    """Sign the response for the chosen items (none: the spec's cancel). Single use."""
    _require_staff(launch)
    stored = services.store.get(_STORE_KIND, launch.token_hash)
    if stored is None:
        raise NotAuthenticated(
            "no_deep_linking_request",
            "This choice has expired or was already sent. Start again from your course.",
        )
    settings = DeepLinkingSettings.from_dict(stored)
    chosen = select_choices(_choices(services, launch)[0], keys, settings)
    single = len(chosen) == 1
    launch_url = services.settings.url_for_tool("/lti/launch")
    items = [
        content_item(
            choice,
            launch_url,
            settings,
            title=_text(title, 255) if single else None,
            text=_text(text) if single else None,
        )
        for choice in chosen
    ]
    with services.db.read_only() as session:
        key = active_signing_key(session)
        if key is None:
            raise ToolError("no_signing_key", "The tool has no signing key.", status=503)
        kid, private_pem = key.kid, key.private_pem
    msg = f"Added {len(items)} link(s) from the Clinical leadership pathway." if items else None
    claims = response_claims(launch.data, settings, items, msg=msg)
    token = jwt.encode(claims, private_pem, algorithm=ALGORITHM, headers={"kid": kid})
    if services.store.take(_STORE_KIND, launch.token_hash) is None:
        raise LaunchRefused("deep_linking_already_sent", "This choice was already sent.")
    return DeepLinkingResponse(settings.return_url, token, items)
