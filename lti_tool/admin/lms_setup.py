"""What an LMS administrator pastes into their platform for one registration: the tool's URLs
(from the configured base URL), which of them that kind of platform asks for, and its steps.
``lti-tool platform add`` prints the same values; the admin page shows them with Copy buttons.
"""

from __future__ import annotations

from dataclasses import dataclass

from lti_tool.settings import Settings

LAUNCH = "/lti/launch"
LOGIN = "/lti/login"
JWKS = "/.well-known/jwks.json"
CANVAS_JSON = "/lti/canvas.json"
REGISTER = "/lti/register"


@dataclass(frozen=True)
class PasteValue:
    """One value to paste: ``key`` names it on the page, ``label`` is what the LMS calls it."""

    key: str
    label: str
    value: str
    hint: str = ""


def paste_values(settings: Settings, registration_pk: int | None, kind: str) -> list[PasteValue]:
    """The values the LMS administrator of a ``kind`` platform (moodle, canvas, generic)
    pastes, in the order its form asks for them; without a registration (the platform is set
    up before it is added here: Moodle and Canvas give the client ID only then) all but the
    registration's own login URL."""
    launch = settings.url_for_tool(LAUNCH)
    login = settings.url_for_tool(LOGIN)
    own_login = [
        PasteValue(
            "login-own",
            "Initiate login URL for this registration only",
            settings.url_for_tool(f"{LOGIN}/{registration_pk}"),
            "Use this one instead only if the platform sends no client ID when a person signs in.",
        )
    ]
    if registration_pk is None:
        own_login = []
    jwks = settings.url_for_tool(JWKS)
    if kind == "canvas":
        return [
            PasteValue("redirect", "Redirect URIs", launch),
            PasteValue("target", "Target Link URI", launch),
            PasteValue("login", "OpenID Connect Initiation URL", login),
            PasteValue("jwks", "Public JWK URL (JWK Method: Public JWK URL)", jwks),
            *own_login,
            PasteValue(
                "canvas-json",
                "JSON URL (Method: Enter URL)",
                settings.url_for_tool(CANVAS_JSON),
                "Instead of typing the values above, Canvas can read them all from here.",
            ),
        ]
    return [
        PasteValue("tool-url", "Tool URL (target link URI)", launch),
        PasteValue("login", "Initiate login URL", login),
        PasteValue("redirect", "Redirection URI(s)", launch),
        PasteValue("jwks", "Public keyset URL (public key type: Keyset URL)", jwks),
        *own_login,
    ]


def dynamic_registration_url(settings: Settings) -> str | None:
    """The URL an LMS registers the tool with by itself, or None when that is switched off."""
    if settings.dynamic_registration_mode == "off":
        return None
    return settings.url_for_tool(REGISTER)


def command_line_lines(settings: Settings, registration_pk: int, kind: str) -> list[str]:
    """What ``lti-tool platform add`` prints: the page's values, one a line."""
    return [f"  {v.label:<48}: {v.value}" for v in paste_values(settings, registration_pk, kind)]
