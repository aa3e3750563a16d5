"""LTI Dynamic Registration 1.0, the tool's side: the client registration request it sends
(LTI-DR 1.0 section 3.5), fitted to what the platform's configuration offers.

Canvas needs ``privacy_level: public`` or it shares no name or email, and placements to show
the tool anywhere; Moodle ignores both (Canvas's ``Lti::IMS::DynamicRegistrationController``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lti_tool.lti import claims as c
from lti_tool.lti.dynreg.configuration import PlatformConfiguration
from lti_tool.settings import Settings

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CANVAS_EXTENSION = "https://canvas.instructure.com/lti/"
CANVAS_PRIVACY_LEVEL = CANVAS_EXTENSION + "privacy_level"
CANVAS_TOOL_ID = CANVAS_EXTENSION + "tool_id"

TOOL_ID = "clinical-leadership-pathway"
# Names no qualification: which ones the tool tracks is config/qualifications's business.
DESCRIPTION = (
    "Each student's checklist towards their qualification, and a class overview for course staff."
)
AGS = c.AGS_SCOPE
NRPS_MEMBERSHIP = c.NRPS_SCOPE
# The scopes the tool asks for, in order, with what each lets it do (shown before install).
WANTED_SCOPES: dict[str, str] = {
    AGS + "lineitem": "create and update its own gradebook columns",
    AGS + "lineitem.readonly": "read gradebook columns",
    AGS + "result.readonly": "read the grades in its columns",
    AGS + "score": "send grades",
    NRPS_MEMBERSHIP: "read the course roster (names, emails and roles)",
}
# The claims the tool asks to receive in every launch.
SHARED_CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")
# Substitution variables for custom parameters. Asked for only when the platform can fill them
# in (an unknown ``$Variable`` reaches the tool as a literal string).
CUSTOM_VARIABLES: dict[str, str] = {
    "canvas_course_id": "Canvas.course.id",
    "context_history": "Context.id.history",
}
CANVAS_PLACEMENTS = {
    c.RESOURCE_LINK_REQUEST: ("course_navigation",),
    c.DEEP_LINKING_REQUEST: ("link_selection", "assignment_selection"),
}


@dataclass(frozen=True)
class ToolUrls:
    """The tool's own URLs as the platform must see them, and its name."""

    login: str
    launch: str
    jwks: str
    domain: str
    name: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ToolUrls:
        return cls(
            login=settings.url_for_tool("/lti/login"),
            launch=settings.url_for_tool("/lti/launch"),
            jwks=settings.url_for_tool("/.well-known/jwks.json"),
            domain=urlsplit(settings.base_url).netloc,
            name=settings.tool_name,
        )


def requested_scopes(config: PlatformConfiguration) -> list[str]:
    """The tool's scopes the platform offers (asking for others would fail the registration)."""
    return [scope for scope in WANTED_SCOPES if scope in config.scopes_supported]


def custom_parameters(config: PlatformConfiguration) -> dict[str, str]:
    """Custom parameters the platform can fill in. Canvas variables go to Canvas only (Canvas
    lists its variables anyway); the others when listed, or when the platform lists none."""
    wanted: dict[str, str] = {}
    for name, variable in CUSTOM_VARIABLES.items():
        if variable.startswith("Canvas."):
            offered = config.kind == "canvas"
        else:
            offered = config.variables is None or variable in config.variables
        if offered:
            wanted[name] = "$" + variable
    return wanted


def _placements(config: PlatformConfiguration, message_type: str) -> list[str]:
    listed = config.messages.get(message_type, ())
    if config.kind == "canvas":
        ours = CANVAS_PLACEMENTS[message_type]
        return [p for p in ours if not listed or p in listed]
    # The spec's own placement for deep linking, named only where the platform lists it.
    if message_type == c.DEEP_LINKING_REQUEST and "ContentArea" in listed:
        return ["ContentArea"]
    return []


def _message(config: PlatformConfiguration, message_type: str, tool: ToolUrls) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": message_type,
        "target_link_uri": tool.launch,
        "label": tool.name,
    }
    placements = _placements(config, message_type)
    if placements:
        message["placements"] = placements
    return message


def client_registration(config: PlatformConfiguration, tool: ToolUrls) -> dict[str, Any]:
    """The client registration request body (LTI-DR 1.0 section 3.5)."""
    messages = [_message(config, c.RESOURCE_LINK_REQUEST, tool)]
    if c.DEEP_LINKING_REQUEST in config.messages:
        messages.append(_message(config, c.DEEP_LINKING_REQUEST, tool))
    tool_configuration: dict[str, Any] = {
        "domain": tool.domain,
        "target_link_uri": tool.launch,
        "description": DESCRIPTION,
        "custom_parameters": custom_parameters(config),
        "claims": list(SHARED_CLAIMS),
        "messages": messages,
    }
    if config.kind == "canvas":
        tool_configuration[CANVAS_PRIVACY_LEVEL] = "public"
        tool_configuration[CANVAS_TOOL_ID] = TOOL_ID
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": tool.login,
        "redirect_uris": [tool.launch],
        "client_name": tool.name,
        "jwks_uri": tool.jwks,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(requested_scopes(config)),
        TOOL_CONFIGURATION: tool_configuration,
    }
