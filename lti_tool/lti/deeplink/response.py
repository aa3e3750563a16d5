"""Deep Linking 2.0, the response: the choices the caller offers to place in a course, the
content items for the chosen ones, and the ``LtiDeepLinkingResponse`` claims (signed in
``flow.respond``)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lti_tool.lti import claims as c
from lti_tool.lti.deeplink.settings import (
    RESOURCE_LINK_ITEM,
    DeepLinkingRefused,
    DeepLinkingSettings,
)
from lti_tool.lti.launch_context import LaunchRegistration

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
CONTENT_ITEMS = DL + "content_items"
DATA = DL + "data"
MSG = DL + "msg"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
RESPONSE_LIFETIME_SECONDS = 300
IFRAME_HEIGHT = 900


@dataclass(frozen=True)
class Choice:
    """One thing the tool can place: the checklist, or an assessment module with its grade."""

    key: str
    title: str
    text: str
    custom: dict[str, str]
    line_item: dict[str, Any] | None = None


@dataclass(frozen=True)
class Offers:
    """What the caller offers to place (the pathway: ``pathway/placements.py``), and the
    title of what they belong to."""

    choices: tuple[Choice, ...]
    title: str


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


def default_title(choice: Choice) -> str:
    """The item's own name: the gradebook column's label when it has one."""
    label = (choice.line_item or {}).get("label")
    return label if isinstance(label, str) and label.strip() else choice.title


def content_item(
    choice: Choice,
    launch_url: str,
    settings: DeepLinkingSettings,
    *,
    title: str | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    """The ``ltiResourceLink`` item for ``choice``; without a ``title`` of its own it is
    named as the item (an assessment module's link as its gradebook column)."""
    item: dict[str, Any] = {
        "type": RESOURCE_LINK_ITEM,
        "title": title or default_title(choice),
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
    registration: LaunchRegistration,
    settings: DeepLinkingSettings,
    items: list[dict[str, Any]],
    *,
    msg: str | None = None,
) -> dict[str, Any]:
    """The ``LtiDeepLinkingResponse`` claims: from the tool (iss) to the platform (aud)."""
    issued = int(time.time())
    claims: dict[str, Any] = {
        "iss": registration.client_id,
        "aud": registration.issuer,
        "iat": issued,
        "exp": issued + RESPONSE_LIFETIME_SECONDS,
        "nonce": secrets.token_urlsafe(24),
        c.DEPLOYMENT_ID: registration.deployment_id,
        c.MESSAGE_TYPE: DEEP_LINKING_RESPONSE,
        c.VERSION: c.LTI_VERSION,
        CONTENT_ITEMS: items,
    }
    if settings.has_data:
        claims[DATA] = settings.data
    if msg:
        claims[MSG] = msg
    return claims
