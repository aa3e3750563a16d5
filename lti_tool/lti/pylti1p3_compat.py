"""The one place that names what the tool relies on inside pylti1p3 beyond its public API.

The tool extends pylti1p3 through public hooks (``set_jwt``, ``set_auto_validation``,
``validate_registration``, ``validate_message``, ``CookieService``, ``ServiceConnector``'s
request contract). A few of those hooks only work because of how pylti1p3 behaves inside;
those private names are listed here, with the version they were checked against and why
the tool needs them. Code elsewhere must not touch a pylti1p3 private name: if one is
needed, add it here first. ``tests/unit/test_pylti1p3_compat.py`` checks every entry
against the installed pylti1p3, that the installed version is the pinned one, that no
module reaches into a pylti1p3 private name and that the tool's subclasses set none of
pylti1p3's private attributes, so an upgrade fails loudly in that one test.
"""

from __future__ import annotations

from dataclasses import dataclass

# The version these entries were checked against; pyproject.toml pins the same.
PINNED_VERSION = "2.0.0"


@dataclass(frozen=True)
class PrivateName:
    """A private attribute or method of a pylti1p3 class the tool depends on."""

    owner: str  # "module:Class"
    name: str
    parameters: tuple[str, ...]  # of the method, in order
    why: str


RELIED_ON: tuple[PrivateName, ...] = (
    PrivateName(
        owner="pylti1p3.message_launch:MessageLaunch",
        name="_get_jwt_body",
        parameters=("self",),
        why=(
            "validate_registration, validate_message and get_iss read the token through it. "
            "ToolMessageLaunch runs its own steps and hands pylti1p3 the decoded token with "
            "set_jwt; this works because _get_jwt_body returns what set_jwt stored and, with "
            "set_auto_validation(False), does not start pylti1p3's own validate()."
        ),
    ),
    PrivateName(
        owner="pylti1p3.contrib.flask.redirect:FlaskRedirect",
        name="_process_response",
        parameters=("self", "response"),
        why=(
            "FlaskOIDCLogin.get_redirect hands the login's cookie service to FlaskRedirect, "
            "whose do_redirect sets the state cookie here by calling the service's "
            "update_response(response); ToolCookieService provides that method."
        ),
    ),
)
