"""Deep Linking 2.0, the request: the platform's ``settings`` claim read as the
tool honours it (kept server-side between the picker and the response)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lti_tool.errors import ToolError
from lti_tool.settings import SHIPPED_TOOL_NAME

RESOURCE_LINK_ITEM = "ltiResourceLink"


class DeepLinkingRefused(ToolError):
    title = "These links cannot be placed"


def _flag(value: Any, default: bool | None) -> bool | None:
    """A boolean setting; some platforms send the strings "true" / "false"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    return default


def trimmed_text(value: Any, limit: int = 1000) -> str | None:
    """A text setting or form field, stripped and cut to ``limit``; None when empty."""
    return value.strip()[:limit] if isinstance(value, str) and value.strip() else None


def _words(text: str) -> str:
    return " ".join(text.split()).casefold()


def own_title(value: Any, tool_name: str, limit: int = 255) -> str | None:
    """A link title someone chose: None when empty or when it is only the tool's own name
    (Moodle suggests the tool's name when the activity has none, and a link named after the
    tool says nothing of what it opens), so the placed item keeps its own title. The shipped
    name counts too: an LMS that registered the tool before ``tool_name`` was changed keeps
    it, and suggests it."""
    title = trimmed_text(value, limit)
    if title is None or _words(title) in {_words(tool_name), _words(SHIPPED_TOOL_NAME)}:
        return None
    return title


@dataclass(frozen=True)
class DeepLinkingSettings:
    """The request's ``settings`` claim, as the tool honours it."""

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
    def from_claim(cls, claim: Any, tool_name: str) -> DeepLinkingSettings:
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
            title=own_title(claim.get("title"), tool_name),
            text=trimmed_text(claim.get("text")),
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
