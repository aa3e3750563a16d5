"""Which hosts a registration's LTI service URLs may be on."""

from __future__ import annotations

import pytest
import requests
from pylti1p3.registration import Registration

from lti_tool.lti.service_hosts import registration_hosts, service_url_refusal


def _registration(issuer: str, sso: str) -> Registration:
    return (
        Registration()
        .set_issuer(issuer)
        .set_client_id("1")
        .set_auth_login_url(sso + "/api/lti/authorize_redirect")
        .set_auth_token_url(sso + "/login/oauth2/token")
        .set_key_set_url(sso + "/api/lti/security/jwks")
    )


MOODLE = registration_hosts(
    _registration("https://moodle.example.ac.uk", "https://moodle.example.ac.uk"), kind="moodle"
)
CANVAS = registration_hosts(
    _registration("https://canvas.instructure.com", "https://sso.canvaslms.com"), kind="canvas"
)


@pytest.mark.parametrize(
    ("hosts", "url", "allowed"),
    [
        (MOODLE, "https://moodle.example.ac.uk/mod/lti/services.php/2/memberships", True),
        (MOODLE, "https://MOODLE.example.ac.uk./mod/lti/services.php", True),
        (MOODLE, "https://attacker.example/steal", False),
        (MOODLE, "https://moodle.example.ac.uk.attacker.example/x", False),
        (MOODLE, "https://169.254.169.254/latest/meta-data", False),
        (MOODLE, "not a url", False),
        (CANVAS, "https://school.instructure.com/api/lti/courses/1/names_and_roles", True),
        (CANVAS, "https://instructure.com.attacker.example/api", False),
        (MOODLE, "https://school.instructure.com/api/lti/courses/1/names_and_roles", False),
    ],
)
def test_service_urls_must_be_on_the_registration_s_hosts(
    hosts: frozenset[str], url: str, allowed: bool
) -> None:
    assert (service_url_refusal(url, hosts) is None) is allowed


def test_operator_allowed_hosts_count() -> None:
    registration = _registration("https://canvas.instructure.com", "https://sso.canvaslms.com")
    hosts = registration_hosts(
        registration, kind="canvas", extra=frozenset({"learn.example.ac.uk"})
    )
    assert service_url_refusal("https://learn.example.ac.uk/api/lti/x", hosts) is None


@pytest.mark.parametrize(
    "url",
    [
        # urlsplit reads a Canvas host, requests connects to attacker.example (outside review).
        "https://attacker.example\\.instructure.com/api/lti/courses/1/names_and_roles",
        "https://attacker.example\\x.canvaslms.com/api/lti/courses/1/line_items",
        "https://attacker.example\\@school.instructure.com/api/lti/courses/1/line_items",
        "https://school.instructure.com@attacker.example/api/lti/courses/1/line_items",
        "https://school.instructure.com /api/lti/courses/1/line_items",
        "https://school.instructure.com\t.attacker.example/api/lti/courses/1/line_items",
        "https://school.instructure.com\x00.attacker.example/api/lti/courses/1/line_items",
    ],
)
def test_the_host_checked_is_the_host_requests_connects_to(url: str) -> None:
    assert service_url_refusal(url, CANVAS) is not None


def test_a_backslash_would_send_the_token_elsewhere() -> None:
    """Why the backslash is refused: requests writes the address with another host."""
    url = "https://attacker.example\\.instructure.com/api/lti/courses/1/names_and_roles"
    assert requests.Request("GET", url).prepare().url.startswith("https://attacker.example/")


def test_an_international_host_is_checked_as_requests_writes_it() -> None:
    """``faß`` is ``xn--fa-hia`` to requests (IDNA 2008), ``fass`` to Python's own codec."""
    registration = _registration("https://faß.example", "https://faß.example")
    hosts = registration_hosts(registration, kind="moodle")
    assert hosts == {"xn--fa-hia.example"}
    assert service_url_refusal("https://faß.example/mod/lti/services.php", hosts) is None
    assert service_url_refusal("https://fass.example/mod/lti/services.php", hosts) is not None
