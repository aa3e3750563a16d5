"""The one set of rules a new registration meets, on the command line and the admin page:
every problem at once, by field; https outside development (loopback http in development)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lti_tool.lti.platform_spec import PlatformSpec, platform_spec_problems

GOOD = PlatformSpec(
    name="moodle",
    issuer="https://moodle.example.ac.uk",
    client_id="abc",
    auth_login_url="https://moodle.example.ac.uk/mod/lti/auth.php",
    auth_token_url="https://moodle.example.ac.uk/mod/lti/token.php",
    key_set_url="https://moodle.example.ac.uk/mod/lti/certs.php",
    kind="moodle",
    deployment_ids=["1"],
)


def test_a_good_spec_has_no_problem() -> None:
    assert platform_spec_problems(GOOD, development=False) == {}


def test_every_problem_is_named_by_its_field() -> None:
    bad = replace(
        GOOD,
        name=" ",
        client_id="",
        issuer="javascript:alert(1)",
        auth_login_url="http://moodle.example.ac.uk/auth",
        key_set_url="x" * 2000,
        kind="blackboard",
        deployment_ids=["d" * 256],
    )
    problems = platform_spec_problems(bad, development=False)
    codes = {field: exc.code for field, exc in problems.items()}
    assert codes == {
        "kind": "bad_kind",
        "name": "bad_name",
        "client_id": "bad_client_id",
        "issuer": "bad_url",
        "auth_login_url": "insecure_url",
        "key_set_url": "bad_url",
        "deployment_ids": "too_long",
    }


@pytest.mark.parametrize(
    ("url", "development", "refused"),
    [
        ("http://127.0.0.1:8080/auth", True, False),
        ("http://localhost/auth", True, False),
        ("http://127.0.0.1:8080/auth", False, True),
        ("http://lms.example.org/auth", True, True),
        ("https://lms.example.org/auth", False, False),
    ],
)
def test_plain_http_only_for_loopback_in_development(
    url: str, development: bool, refused: bool
) -> None:
    problems = platform_spec_problems(replace(GOOD, auth_token_url=url), development=development)
    assert ("auth_token_url" in problems) is refused


def test_an_issuer_with_a_query_is_refused() -> None:
    with_query = replace(GOOD, issuer=GOOD.issuer + "/?x=1")
    problems = platform_spec_problems(with_query, development=False)
    assert problems["issuer"].code == "bad_issuer"
