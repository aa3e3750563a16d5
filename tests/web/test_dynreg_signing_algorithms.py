"""Which signing algorithms a platform's OpenID configuration must list for the tool to work
with it (Dynamic Registration 1.0 section 3.5.1; Security Framework 4.1.1).

The tool signs its client assertions (service tokens: roster, grades) with RS256 only, so the
platform's token endpoint must take RS256 (``token_endpoint_auth_signing_alg_values_supported``);
a platform that lists only ES256 there was registered, then refused every token request. The
tool verifies launches signed with RS256, PS256 or ES256 alike (``lti/platform_keys.py``), so a
platform that signs its id_tokens with ES256 only was refused although its launches would pass."""

from __future__ import annotations

from flask import Flask

from tests.support.dynreg import Lms
from tests.web.test_dynamic_registration import install, registrations

TOKEN_ALGS = "token_endpoint_auth_signing_alg_values_supported"
ID_TOKEN_ALGS = "id_token_signing_alg_values_supported"


def test_a_token_endpoint_without_rs256_is_refused_before_registering(
    tool: Flask, lms: Lms
) -> None:
    lms.moodle.overrides[TOKEN_ALGS] = ["ES256"]
    page = tool.test_client().get(lms.moodle_start())
    text = page.get_data(as_text=True)
    assert page.status_code == 400, text
    assert "unsupported_platform" in text and TOKEN_ALGS in text
    assert lms.moodle.registered == []
    assert registrations(tool) == {}


def test_a_platform_signing_its_launches_with_es256_is_registered(tool: Flask, lms: Lms) -> None:
    lms.moodle.overrides[ID_TOKEN_ALGS] = ["ES256"]
    _, done = install(tool.test_client(), lms.moodle_start())
    assert done.status_code == 200, done.get_data(as_text=True)
    assert len(registrations(tool)) == 1


def test_a_platform_whose_launch_algorithms_the_tool_cannot_verify_is_refused(
    tool: Flask, lms: Lms
) -> None:
    lms.moodle.overrides[ID_TOKEN_ALGS] = ["HS256", "none"]
    page = tool.test_client().get(lms.moodle_start())
    text = page.get_data(as_text=True)
    assert page.status_code == 400, text
    assert "unsupported_platform" in text and ID_TOKEN_ALGS in text
    assert lms.moodle.registered == []
