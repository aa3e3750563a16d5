"""Where a Dynamic Registration configuration may point (``lti/dynreg/sites.py``): its issuer a
prefix of the configuration URL (Dynamic Registration 1.0 section 3.5.1), its endpoints on the
configuration's site, Canvas cloud's fixed hosts only for a configuration Canvas cloud serves."""

from __future__ import annotations

import pytest

from lti_tool.lti.dynreg.sites import issuer_prefixes, site_refusal

MOODLE = "https://moodle.example.ac.uk"
SCHOOL = "https://school.instructure.com"
CANVAS_SSO = "https://sso.canvaslms.com"


def moodle_endpoints(site: str = MOODLE) -> dict[str, str]:
    return {
        "authorization_endpoint": site + "/mod/lti/auth.php",
        "token_endpoint": site + "/mod/lti/token.php",
        "jwks_uri": site + "/mod/lti/certs.php",
    }


def canvas_endpoints(sso: str = CANVAS_SSO) -> dict[str, str]:
    return {
        "authorization_endpoint": sso + "/api/lti/authorize_redirect",
        "token_endpoint": sso + "/login/oauth2/token",
        "jwks_uri": sso + "/api/lti/security/jwks",
    }


def refusal(
    configuration_url: str,
    issuer: str,
    endpoints: dict[str, str],
    *,
    registration_endpoint: str | None = None,
    development: bool = False,
) -> str | None:
    found = site_refusal(
        configuration_url,
        issuer,
        endpoints,
        registration_endpoint or configuration_url.rsplit("/", 1)[0] + "/register",
        development=development,
    )
    return found[0] if found else None


@pytest.mark.parametrize(
    ("issuer", "configuration_url", "prefixes"),
    [
        (MOODLE, MOODLE + "/mod/lti/openid-configuration.php", True),
        (MOODLE + "/", MOODLE + "/mod/lti/openid-configuration.php", True),
        ("https://MOODLE.example.ac.uk:443", MOODLE + "/mod/lti/openid-configuration.php", True),
        ("https://uni.example/moodle", "https://uni.example/moodle/mod/lti/x.php", True),
        ("https://uni.example/moodle", "https://uni.example/moodle2/mod/lti/x.php", False),
        ("https://uni.example/moodle", "https://uni.example/other/mod/lti/x.php", False),
        (MOODLE, "https://moodle.example.ac.uk:8443/mod/lti/x.php", False),
        ("http://moodle.example.ac.uk", MOODLE + "/mod/lti/x.php", False),
        ("https://victim.example", MOODLE + "/mod/lti/x.php", False),
    ],
)
def test_the_issuer_is_a_prefix_of_the_configuration_url(
    issuer: str, configuration_url: str, prefixes: bool
) -> None:
    assert issuer_prefixes(issuer, configuration_url) is prefixes


def test_a_moodle_configuration_on_its_own_site_is_kept() -> None:
    assert refusal(MOODLE + "/mod/lti/openid-configuration.php", MOODLE, moodle_endpoints()) is None


@pytest.mark.parametrize("endpoint", ["authorization_endpoint", "token_endpoint", "jwks_uri"])
@pytest.mark.parametrize(
    "elsewhere",
    [
        "https://victim.example/mod/lti/x.php",
        "https://moodle.example.ac.uk:8443/mod/lti/x.php",  # another port: another site
        "http://moodle.example.ac.uk/mod/lti/x.php",
        CANVAS_SSO + "/login/oauth2/token",  # Canvas cloud's, from a configuration that is not
        "https://10.0.4.5:8443/internal",
    ],
)
def test_an_endpoint_off_the_configurations_site_is_refused(endpoint: str, elsewhere: str) -> None:
    endpoints = {**moodle_endpoints(), endpoint: elsewhere}
    configuration_url = MOODLE + "/mod/lti/openid-configuration.php"
    assert refusal(configuration_url, MOODLE, endpoints) == "foreign_endpoint"


def test_a_registration_endpoint_elsewhere_is_refused_first() -> None:
    configuration_url = MOODLE + "/mod/lti/openid-configuration.php"
    found = refusal(
        configuration_url,
        "https://victim.example",
        moodle_endpoints(),
        registration_endpoint="https://evil.example/register",
    )
    assert found == "foreign_registration_endpoint"


@pytest.mark.parametrize(
    ("issuer", "sso"),
    [
        ("https://canvas.instructure.com", CANVAS_SSO),
        ("https://canvas.instructure.com", "https://canvas.instructure.com"),  # older Canvas
        ("https://canvas.test.instructure.com", "https://sso.test.canvaslms.com"),
        ("https://canvas.beta.instructure.com", "https://sso.beta.canvaslms.com"),
        ("https://canvas.instructure.com", SCHOOL),  # keys on the institution's own host
    ],
)
def test_canvas_cloud_keeps_its_fixed_hosts(issuer: str, sso: str) -> None:
    configuration_url = SCHOOL + "/api/lti/security/openid-configuration"
    assert refusal(configuration_url, issuer, canvas_endpoints(sso)) is None


@pytest.mark.parametrize(
    "configuration_url",
    [
        "https://canvas.school.edu/api/lti/security/openid-configuration",  # no Canvas hosts
        "https://instructure.com.evil.example/api/lti/security/openid-configuration",
        "https://evilinstructure.com/api/lti/security/openid-configuration",
        "http://localhost:8080/api/lti/security/openid-configuration",  # outside development
    ],
)
def test_canvas_clouds_issuer_and_hosts_only_from_canvas_cloud(configuration_url: str) -> None:
    assert refusal(configuration_url, "https://canvas.instructure.com", {}) == "foreign_issuer"
    own = configuration_url.split("/api/", 1)[0]
    found = refusal(configuration_url, own, canvas_endpoints())
    assert found == "foreign_endpoint"


def test_a_canvas_configuration_may_not_name_another_host() -> None:
    configuration_url = SCHOOL + "/api/lti/security/openid-configuration"
    endpoints = {**canvas_endpoints(), "token_endpoint": "https://victim.example/token"}
    assert refusal(configuration_url, "https://canvas.instructure.com", endpoints) == (
        "foreign_endpoint"
    )
    assert refusal(configuration_url, "https://victim.example", canvas_endpoints()) == (
        "foreign_issuer"
    )


def test_in_development_a_loopback_configuration_stands_in_for_canvas_cloud() -> None:
    """The sandbox's Canvas-like fake serves on loopback with Canvas cloud's issuer."""
    configuration_url = "http://localhost:8080/api/lti/security/openid-configuration"
    issuer = "https://canvas.instructure.com"
    assert refusal(configuration_url, issuer, canvas_endpoints(), development=True) is None
    assert refusal(configuration_url, issuer, canvas_endpoints(), development=False) == (
        "foreign_issuer"
    )


CUSTOM_DOMAIN = "https://canvas.ox.ac.uk"  # Instructure-hosted Canvas on the university's domain


@pytest.mark.parametrize("sso", [CANVAS_SSO, "https://canvas.instructure.com"])
def test_canvas_cloud_on_an_institutions_own_domain_registers(sso: str) -> None:
    """Canvas answers the configuration from the host its administrator is on, with Canvas
    cloud's issuer and Instructure's hosts."""
    configuration_url = CUSTOM_DOMAIN + "/api/lti/security/openid-configuration"
    found = refusal(configuration_url, "https://canvas.instructure.com", canvas_endpoints(sso))
    assert found is None


@pytest.mark.parametrize("field", ["jwks_uri", "token_endpoint", "authorization_endpoint"])
def test_canvas_clouds_issuer_from_another_domain_names_only_instructures_hosts(field: str) -> None:
    """With keys of its own (or a token endpoint elsewhere), a configuration naming Canvas
    cloud's issuer from another domain could sign launches as Canvas cloud for a client of
    Instructure's: refused."""
    configuration_url = CUSTOM_DOMAIN + "/api/lti/security/openid-configuration"
    endpoints = {**canvas_endpoints(), field: CUSTOM_DOMAIN + "/own"}
    assert refusal(configuration_url, "https://canvas.instructure.com", endpoints) == (
        "foreign_issuer"
    )
    plain = "http://canvas.ox.ac.uk/api/lti/security/openid-configuration"
    assert refusal(plain, "https://canvas.instructure.com", canvas_endpoints()) == (
        "foreign_issuer"
    )
