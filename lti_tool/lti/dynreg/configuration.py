"""LTI Dynamic Registration 1.0, the platform's side: what its OpenID configuration must say
(validated here), and which origins may frame the registration pages. No I/O here: the body the
tool sends is built in ``request``, the platform's answer read in
``response``, and ``flow`` fetches, posts, stores.

Where the configuration may point (its issuer a prefix of the configuration URL, as Dynamic
Registration 1.0 section 3.5.1 says; its registration, authorization, token and JWKS endpoints
on the configuration's site; Canvas cloud's fixed hosts only for a configuration served by
Canvas cloud) is ``sites``: a configuration that named another platform's token endpoint made
the tool act as that platform's client.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lti_tool.errors import ToolError, UpstreamError
from lti_tool.lti import claims as c
from lti_tool.lti.dynreg.sites import audience_refusal, site_refusal
from lti_tool.lti.platform_keys import ASYMMETRIC_ALGORITHMS
from lti_tool.lti.registry import RegistryError, check_platform_url
from lti_tool.urls import web_origin

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
# Anyone can make the tool fetch and keep a configuration: bounds on what it may list.
MAX_LIST_ITEMS = 1000
MAX_NAME_LENGTH = 256
MAX_URL_LENGTH = 2048
KINDS = {"moodle": "moodle", "canvas": "canvas"}


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
    # the ``aud`` of the tool's client assertions when it is not the token endpoint's URL
    auth_audience: str | None = None

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

    def keeping_only(
        self, scopes: Collection[str], variables: Collection[str], message_types: Collection[str]
    ) -> PlatformConfiguration:
        """This configuration listing only the scopes, variables and message types the tool
        asks about: what is kept while an admin confirms holds nothing else a stranger sent."""
        return dataclasses.replace(
            self,
            scopes_supported=tuple(s for s in self.scopes_supported if s in scopes),
            messages={k: v for k, v in self.messages.items() if k in message_types},
            variables=(
                None
                if self.variables is None
                else tuple(v for v in self.variables if v in variables)
            ),
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlatformConfiguration:
        values = dict(data)
        values["scopes_supported"] = tuple(values["scopes_supported"])
        values["messages"] = {k: tuple(v) for k, v in values["messages"].items()}
        if values.get("variables") is not None:
            values["variables"] = tuple(values["variables"])
        return cls(**values)


def display_url(url: str) -> str:
    """The URL without query or fragment: Canvas puts the registration token in the query."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL (an unclosed IPv6 bracket): the same cut by hand
        parts = urlsplit("")
    if not (parts.scheme and parts.netloc):
        return url.split("?", 1)[0].split("#", 1)[0]
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _checked_url(url: Any, *, development: bool, field: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise RegistrationRefused("bad_configuration", f"The configuration has no {field}.")
    if len(url) > MAX_URL_LENGTH:
        raise RegistrationRefused(
            "bad_configuration", f"The configuration's {field} is longer than {MAX_URL_LENGTH}."
        )
    try:
        return check_platform_url(url, development=development, field=field)
    except RegistryError as exc:
        raise RegistrationRefused("bad_configuration", exc.message) from exc


def check_configuration_url(url: str, *, development: bool) -> str:
    """The ``openid_configuration`` URL is well formed: https (loopback http in development)
    and no credentials in it."""
    if not url.strip():
        raise RegistrationRefused(
            "missing_configuration",
            "Open this page from your LMS: the openid_configuration parameter is missing.",
        )
    try:
        urlsplit(url.strip())
    except ValueError as exc:
        raise RegistrationRefused(
            "bad_configuration", "openid_configuration is not a valid URL."
        ) from exc
    # Checked without its query: Canvas puts the registration token there, and the error
    # message is shown and logged.
    _checked_url(display_url(url.strip()), development=development, field="openid_configuration")
    checked = url.strip()
    parts = urlsplit(checked)
    if parts.username or parts.password:
        raise RegistrationRefused("bad_configuration", "openid_configuration carries credentials.")
    # Where it may point (public addresses only, checked at connect time) is the outbound
    # policy's call: lti_tool/outbound/policy.py.
    return checked


def _string_list(value: Any, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RegistrationRefused("bad_configuration", f"{field} must be a list of strings.")
    _refuse_oversized(value, field)
    return tuple(value)


def _refuse_oversized(value: list[Any], field: str) -> None:
    if len(value) > MAX_LIST_ITEMS or any(
        isinstance(v, str) and len(v) > MAX_NAME_LENGTH for v in value
    ):
        raise RegistrationRefused(
            "bad_configuration",
            f"{field} lists more than {MAX_LIST_ITEMS} entries or an entry longer than "
            f"{MAX_NAME_LENGTH} characters.",
        )


def _messages(value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, list):
        raise RegistrationRefused("bad_configuration", "messages_supported must be a list.")
    _refuse_oversized(value, "messages_supported")
    messages: dict[str, tuple[str, ...]] = {}
    for item in value:
        # The spec has objects; some platforms list bare message type names.
        if isinstance(item, str):
            messages.setdefault(item, ())
        elif isinstance(item, dict) and isinstance(item.get("type"), str):
            placements = item.get("placements") or []
            if isinstance(placements, list):
                _refuse_oversized(placements, "placements")
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
    refusal = site_refusal(
        configuration_url,
        issuer,
        endpoints,
        registration_endpoint,
        development=development,
    )
    if refusal is not None:
        raise RegistrationRefused(*refusal)
    # What the tool does: private_key_jwt client assertions signed RS256; launches verified
    # with any asymmetric algorithm (lti/platform_keys.py).
    for field, needed, words in (
        ("token_endpoint_auth_methods_supported", {"private_key_jwt"}, "private_key_jwt"),
        ("token_endpoint_auth_signing_alg_values_supported", {"RS256"}, "RS256"),
        ("id_token_signing_alg_values_supported", ASYMMETRIC_ALGORITHMS, "RS256 or ES256"),
    ):
        listed = document.get(field)
        if listed is not None and not needed & set(_string_list(listed, field)):
            raise RegistrationRefused(
                "unsupported_platform", f"The platform does not support {words} ({field})."
            )
    platform = document.get(PLATFORM_CONFIGURATION)
    if not isinstance(platform, dict):
        raise RegistrationRefused(
            "bad_configuration", f"The configuration has no {PLATFORM_CONFIGURATION} object."
        )
    family = platform.get("product_family_code")
    if not isinstance(family, str) or not family.strip():
        raise RegistrationRefused("bad_configuration", "product_family_code is missing.")
    _refuse_oversized([family, platform.get("version")], "product_family_code or version")
    messages = _messages(platform.get("messages_supported"))
    if c.RESOURCE_LINK_REQUEST not in messages:
        raise RegistrationRefused(
            "unsupported_platform", "The platform does not offer LtiResourceLinkRequest launches."
        )
    variables = platform.get("variables")
    version = platform.get("version")
    audience = document.get("authorization_server")
    if KINDS.get(family.strip().lower()) == "canvas" or audience in (None, ""):
        # Canvas names a bare host name and takes its token URL as the audience, as it does
        # for a registration added by hand.
        audience = None
    elif (
        refused := audience_refusal(
            audience, configuration_url, issuer, endpoints["token_endpoint"]
        )
    ) is not None:
        raise RegistrationRefused(*refused)
    return PlatformConfiguration(
        # Without its query: Canvas puts the registration token there, and this URL is kept,
        # audited and logged.
        configuration_url=display_url(configuration_url),
        issuer=issuer,
        registration_endpoint=registration_endpoint,
        product_family_code=family.strip(),
        version=version if isinstance(version, str) else "",
        scopes_supported=_string_list(document.get("scopes_supported"), "scopes_supported"),
        messages=messages,
        variables=_string_list(variables, "variables") if variables is not None else None,
        auth_audience=audience,
        **endpoints,
    )


CANVAS_FRAME_ORIGINS = ("https://*.instructure.com", "https://*.canvaslms.com")


def frame_origins(configuration_url: str, config: PlatformConfiguration | None = None) -> list[str]:
    """Origins that may frame the registration pages: the LMS opens them in an iframe before
    it is registered. The configuration's site, the issuer's and the auth endpoint's; for
    Canvas its institution domains (the configuration may sit on canvas.instructure.com while
    the admin's page is on the institution's)."""
    urls = [configuration_url]
    if config is not None:
        urls += [config.issuer, config.authorization_endpoint]
    origins = [o for o in map(web_origin, urls) if o]
    own = web_origin(configuration_url)
    host = (urlsplit(own).hostname or "").lower() if own else ""
    canvas_host = host.endswith((".instructure.com", ".canvaslms.com"))
    if (config is not None and config.kind == "canvas") or canvas_host:
        origins += CANVAS_FRAME_ORIGINS
    return list(dict.fromkeys(origins))
