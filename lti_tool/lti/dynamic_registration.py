"""LTI Dynamic Registration 1.0, the rules: what a platform's OpenID configuration must say,
the client registration the tool sends, and how the platform's answer is read. No I/O here
(``dynamic_registration_flow`` fetches, posts, stores).

Facts behind the rules (1EdTech LTI-DR 1.0; Moodle 4.5.6 as recorded in
``fixtures/moodle-4.5.6/dynreg-flow.json``; Canvas's ``Lti::IMS::DynamicRegistrationController``):

- The issuer need not share the configuration URL's origin: Canvas cloud's issuer is
  ``https://canvas.instructure.com`` for everyone while the configuration lives on the
  institution's domain. The *registration endpoint* must share it: the registration token is
  sent there, and an endpoint elsewhere would hand the token (and the tool's registration) to
  whoever wrote the configuration.
- Moodle answers with ``deployment_id`` inside the tool configuration (as the spec shows);
  recent Canvas puts it at the top level; older Canvas sends none (its deployment is made when
  an admin enables the app, and the first launch records it).
- Canvas needs ``privacy_level: public`` or it shares no name or email, and placements to show
  the tool anywhere; Moodle ignores both.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lti_tool.errors import ToolError, UpstreamError
from lti_tool.lti import claims as c
from lti_tool.lti.registry import RegistryError, check_platform_url
from lti_tool.settings import Settings

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CANVAS_EXTENSION = "https://canvas.instructure.com/lti/"
CANVAS_PRIVACY_LEVEL = CANVAS_EXTENSION + "privacy_level"
CANVAS_TOOL_ID = CANVAS_EXTENSION + "tool_id"

CLIENT_NAME = "Clinical leadership pathway"
TOOL_ID = "clinical-leadership-pathway"
DESCRIPTION = (
    "Each student's checklist towards the Postgraduate Certificate in Clinical Leadership, "
    "and a class overview for course staff."
)
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
NRPS_MEMBERSHIP = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
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
    "canvas_user_id": "Canvas.user.id",
    "canvas_course_id": "Canvas.course.id",
    "context_history": "Context.id.history",
}
CANVAS_PLACEMENTS = {
    c.RESOURCE_LINK_REQUEST: ("course_navigation",),
    c.DEEP_LINKING_REQUEST: ("link_selection", "assignment_selection"),
}
KINDS = {"moodle": "moodle", "canvas": "canvas"}
_NAME_SAFE = re.compile(r"[^a-z0-9._-]+")
_TAGS = re.compile(r"<[^>]*>")
MAX_PLATFORM_WORDS = 300


class RegistrationRefused(ToolError):
    """The registration cannot go ahead: bad configuration, expired form, not confirmed."""

    title = "The tool could not be installed"


class PlatformRefused(UpstreamError):
    """The platform answered the configuration fetch or the registration with an error."""

    title = "The platform refused the registration"


@dataclass(frozen=True)
class PlatformConfiguration:
    """The parts of a platform's OpenID configuration the tool uses, validated."""

    configuration_url: str
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    product_family_code: str
    version: str
    scopes_supported: tuple[str, ...]
    # message type -> the placements the platform lists for it
    messages: dict[str, tuple[str, ...]]
    # substitution variables the platform lists; None when it lists none
    variables: tuple[str, ...] | None = None

    @property
    def kind(self) -> str:
        """moodle, canvas or generic: the registration's kind in the tool."""
        return KINDS.get(self.product_family_code.lower(), "generic")

    @property
    def host(self) -> str:
        """Where the configuration came from (for Canvas, the institution's domain)."""
        return urlsplit(self.configuration_url).netloc.lower()

    @property
    def product(self) -> str:
        """The product's name for people: "Moodle", "Canvas" or its family code."""
        return {"moodle": "Moodle", "canvas": "Canvas"}.get(self.kind, self.product_family_code)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlatformConfiguration:
        values = dict(data)
        values["scopes_supported"] = tuple(values["scopes_supported"])
        values["messages"] = {k: tuple(v) for k, v in values["messages"].items()}
        if values.get("variables") is not None:
            values["variables"] = tuple(values["variables"])
        return cls(**values)


@dataclass(frozen=True)
class ToolUrls:
    """The tool's own URLs as the platform must see them."""

    login: str
    launch: str
    jwks: str
    domain: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ToolUrls:
        return cls(
            login=settings.url_for_tool("/lti/login"),
            launch=settings.url_for_tool("/lti/launch"),
            jwks=settings.url_for_tool("/.well-known/jwks.json"),
            domain=urlsplit(settings.base_url).netloc,
        )


@dataclass(frozen=True)
class RegistrationResult:
    """What the platform answered: the client it made, and its deployment when it said."""

    client_id: str
    deployment_id: str | None
    granted_scopes: tuple[str, ...] | None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or default


def display_url(url: str) -> str:
    """The URL without query or fragment: Canvas puts the registration token in the query."""
    parts = urlsplit(url)
    if not (parts.scheme and parts.netloc):
        return url.split("?", 1)[0].split("#", 1)[0]
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _checked_url(url: Any, *, development: bool, field: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise RegistrationRefused("bad_configuration", f"The configuration has no {field}.")
    try:
        return check_platform_url(url, development=development, field=field)
    except RegistryError as exc:
        raise RegistrationRefused("bad_configuration", exc.message) from exc


def check_configuration_url(url: str, *, development: bool) -> str:
    """The ``openid_configuration`` URL is safe to fetch: https (loopback http in development),
    no credentials in it, and in production no address inside our own network."""
    if not url.strip():
        raise RegistrationRefused(
            "missing_configuration",
            "Open this page from your LMS: the openid_configuration parameter is missing.",
        )
    # Checked without its query: Canvas puts the registration token there, and the error
    # message is shown and logged.
    _checked_url(display_url(url.strip()), development=development, field="openid_configuration")
    checked = url.strip()
    parts = urlsplit(checked)
    if parts.username or parts.password:
        raise RegistrationRefused("bad_configuration", "openid_configuration carries credentials.")
    if not development and not _is_public_host(parts.hostname or ""):
        raise RegistrationRefused(
            "private_address",
            f"openid_configuration {display_url(checked)!r} points inside a private network; "
            "production fetches only public platform addresses",
        )
    return checked


def _is_public_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        return True  # a name: resolving it here would not stop a rebinding anyway


def _string_list(value: Any, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RegistrationRefused("bad_configuration", f"{field} must be a list of strings.")
    return tuple(value)


def _messages(value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, list):
        raise RegistrationRefused("bad_configuration", "messages_supported must be a list.")
    messages: dict[str, tuple[str, ...]] = {}
    for item in value:
        # The spec has objects; some platforms list bare message type names.
        if isinstance(item, str):
            messages.setdefault(item, ())
        elif isinstance(item, dict) and isinstance(item.get("type"), str):
            placements = item.get("placements") or []
            listed = tuple(p for p in placements if isinstance(p, str))
            messages[item["type"]] = messages.get(item["type"], ()) + listed
    return messages


def parse_platform_configuration(
    document: Any, configuration_url: str, *, development: bool
) -> PlatformConfiguration:
    """Validate the platform's OpenID configuration; RegistrationRefused says what is wrong."""
    if not isinstance(document, dict):
        raise RegistrationRefused("bad_configuration", "The configuration is not a JSON object.")
    issuer = _checked_url(document.get("issuer"), development=development, field="issuer")
    if urlsplit(issuer).query or urlsplit(issuer).fragment:
        raise RegistrationRefused("bad_configuration", "The issuer has a query or fragment.")
    endpoints = {
        name: _checked_url(document.get(name), development=development, field=name)
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")
    }
    registration_endpoint = _checked_url(
        document.get("registration_endpoint"),
        development=development,
        field="registration_endpoint",
    )
    if _origin(registration_endpoint) != _origin(configuration_url):
        raise RegistrationRefused(
            "foreign_registration_endpoint",
            f"The registration endpoint {display_url(registration_endpoint)!r} is not on the "
            f"configuration's site {display_url(configuration_url)!r}; the registration token "
            "is only sent back where it came from.",
        )
    for field, needed in (
        ("token_endpoint_auth_methods_supported", "private_key_jwt"),
        ("id_token_signing_alg_values_supported", "RS256"),
    ):
        listed = document.get(field)
        if listed is not None and needed not in _string_list(listed, field):
            raise RegistrationRefused(
                "unsupported_platform", f"The platform does not support {needed} ({field})."
            )
    platform = document.get(PLATFORM_CONFIGURATION)
    if not isinstance(platform, dict):
        raise RegistrationRefused(
            "bad_configuration", f"The configuration has no {PLATFORM_CONFIGURATION} object."
        )
    family = platform.get("product_family_code")
    if not isinstance(family, str) or not family.strip():
        raise RegistrationRefused("bad_configuration", "product_family_code is missing.")
    messages = _messages(platform.get("messages_supported"))
    if c.RESOURCE_LINK_REQUEST not in messages:
        raise RegistrationRefused(
            "unsupported_platform", "The platform does not offer LtiResourceLinkRequest launches."
        )
    variables = platform.get("variables")
    version = platform.get("version")
    return PlatformConfiguration(
        configuration_url=configuration_url,
        issuer=issuer,
        registration_endpoint=registration_endpoint,
        product_family_code=family.strip(),
        version=version if isinstance(version, str) else "",
        scopes_supported=_string_list(document.get("scopes_supported"), "scopes_supported"),
        messages=messages,
        variables=_string_list(variables, "variables") if variables is not None else None,
        **endpoints,
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
        "label": CLIENT_NAME,
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
        "client_name": CLIENT_NAME,
        "jwks_uri": tool.jwks,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(requested_scopes(config)),
        TOOL_CONFIGURATION: tool_configuration,
    }


def _identifier(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | str) and str(value).strip():
        return str(value).strip()
    return None


def parse_registration_response(body: Any) -> RegistrationResult:
    """Read the platform's answer: ``client_id``, and ``deployment_id`` from the tool
    configuration (spec, Moodle) or the top level (recent Canvas), if present at all."""
    if not isinstance(body, dict):
        raise PlatformRefused("bad_registration_response", "The platform's answer is not JSON.")
    client_id = _identifier(body.get("client_id"))
    if client_id is None:
        raise PlatformRefused(
            "bad_registration_response", "The platform's answer carries no client_id."
        )
    tool_configuration = body.get(TOOL_CONFIGURATION)
    nested = (
        tool_configuration.get("deployment_id") if isinstance(tool_configuration, dict) else None
    )
    deployment_id = _identifier(nested) or _identifier(body.get("deployment_id"))
    scope = body.get("scope")
    granted = tuple(scope.split()) if isinstance(scope, str) else None
    return RegistrationResult(client_id, deployment_id, granted)


def platform_words(body: bytes, content_type: str = "") -> str:
    """What the platform said, short and as text: Moodle answers plain words
    (``token_already_used``) labelled text/html, Canvas JSON ``{"errorMessage": …}``."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("error_description", "errorMessage", "message", "error", "errors", "reason"):
            if data.get(key):
                value = data[key]
                text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
                break
    elif text.startswith("<") or ("html" in content_type and "<" in text):
        text = _TAGS.sub(" ", text)
    text = " ".join(text.split())
    if len(text) > MAX_PLATFORM_WORDS:
        text = text[: MAX_PLATFORM_WORDS - 1] + "…"
    return text or "(no explanation given)"


CANVAS_FRAME_ORIGINS = ("https://*.instructure.com", "https://*.canvaslms.com")


def _url_origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc.lower()}"
    return None


def frame_origins(configuration_url: str, config: PlatformConfiguration | None = None) -> list[str]:
    """Origins that may frame the registration pages: the LMS opens them in an iframe before
    it is registered. The configuration's site, the issuer's and the auth endpoint's; for
    Canvas its institution domains (the configuration may sit on canvas.instructure.com while
    the admin's page is on the institution's)."""
    urls = [configuration_url]
    if config is not None:
        urls += [config.issuer, config.authorization_endpoint]
    origins = [o for o in map(_url_origin, urls) if o]
    host = (urlsplit(configuration_url).hostname or "").lower()
    canvas_host = host.endswith((".instructure.com", ".canvaslms.com"))
    if (config is not None and config.kind == "canvas") or canvas_host:
        origins += CANVAS_FRAME_ORIGINS
    return list(dict.fromkeys(origins))


def registration_base_name(config: PlatformConfiguration) -> str:
    """``<product family>-<host>``, e.g. ``moodle-127.0.0.1:8080`` or
    ``canvas-school.instructure.com`` (the configuration's host: Canvas's issuer is shared)."""
    family = _NAME_SAFE.sub("-", config.product_family_code.lower()).strip("-") or "lti"
    return f"{family}-{config.host}"[:90]
