"""Launch claims in a shape the specifications do not allow get a clear 400, not a 500: a
message type that is not text, an object claim that is not an object, a sub longer than Core
5.3.6 allows (outside review)."""

from __future__ import annotations

import html
from typing import Any

import pytest

from lti_tool.lti import claims as c
from lti_tool.sandbox.deep_linking import deep_link_claims
from tests.support.lti import Launcher

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _post(launcher: Launcher, user: str, claims_of: Any) -> Any:
    client = launcher.app.test_client()
    login = launcher.login(client, user)
    claims = claims_of(login.nonce)
    return launcher.post_launch(client, launcher.platform.sign(claims), login.state)


@SQLITE
@pytest.mark.parametrize(
    "value", [[c.RESOURCE_LINK_REQUEST], {"type": "x"}], ids=["list", "object"]
)
def test_message_type_of_the_wrong_type_is_a_400(launcher: Launcher, value: Any) -> None:
    def claims_of(nonce: str) -> dict[str, Any]:
        claims = launcher.claims("student1", nonce)
        claims[c.MESSAGE_TYPE] = value
        return claims

    response = _post(launcher, "student1", claims_of)
    assert response.status_code == 400, response.status_code
    assert "Traceback" not in html.unescape(response.get_data(as_text=True))


@SQLITE
@pytest.mark.parametrize("value", ["settings", ["ltiResourceLink"]], ids=["string", "list"])
def test_deep_linking_settings_of_the_wrong_type_is_a_400(launcher: Launcher, value: Any) -> None:
    def claims_of(nonce: str) -> dict[str, Any]:
        claims = deep_link_claims(launcher.platform, "teacher1", nonce)
        claims[c.DEEP_LINKING_SETTINGS] = value
        return claims

    response = _post(launcher, "teacher1", claims_of)
    assert response.status_code == 400, response.status_code


@SQLITE
@pytest.mark.parametrize(
    ("ags", "for_user"),
    [(7, {"user_id": "1001"}), ({"lineitem": "x"}, 7)],
    ids=["ags endpoint a number", "for_user a number"],
)
def test_submission_review_claims_of_the_wrong_type_are_a_400(
    launcher: Launcher, ags: Any, for_user: Any
) -> None:
    def claims_of(nonce: str) -> dict[str, Any]:
        claims = launcher.claims("teacher1", nonce)
        claims[c.MESSAGE_TYPE] = c.SUBMISSION_REVIEW_REQUEST
        claims[c.AGS] = ags
        claims[c.FOR_USER] = for_user
        return claims

    response = _post(launcher, "teacher1", claims_of)
    assert response.status_code == 400, response.status_code


@SQLITE
@pytest.mark.parametrize(
    "claim", [c.CONTEXT, c.CUSTOM, c.LAUNCH_PRESENTATION, c.TOOL_PLATFORM, c.NRPS, c.AGS]
)
def test_an_object_claim_that_is_not_an_object_is_a_400(launcher: Launcher, claim: str) -> None:
    def claims_of(nonce: str) -> dict[str, Any]:
        claims = launcher.claims("student1", nonce)
        claims[claim] = ["not", "an", "object"]
        return claims

    response = _post(launcher, "student1", claims_of)
    assert response.status_code == 400, response.status_code
    assert "is not an object" in html.unescape(response.get_data(as_text=True))


@SQLITE
def test_a_submission_review_without_for_user_is_a_400(launcher: Launcher) -> None:
    def claims_of(nonce: str) -> dict[str, Any]:
        claims = launcher.claims("teacher1", nonce)
        claims[c.MESSAGE_TYPE] = c.SUBMISSION_REVIEW_REQUEST
        claims.pop(c.FOR_USER, None)
        return claims

    response = _post(launcher, "teacher1", claims_of)
    assert response.status_code == 400, response.status_code
    assert "has no for_user claim" in html.unescape(response.get_data(as_text=True))


PG = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@PG
def test_a_sub_longer_than_255_characters_is_a_400(launcher: Launcher) -> None:
    def claims_of(nonce: str) -> dict[str, Any]:
        claims = launcher.claims("student1", nonce)
        claims["sub"] = "u" * 256
        return claims

    response = _post(launcher, "student1", claims_of)
    assert response.status_code == 400, response.status_code
    assert "longer than 255 characters" in html.unescape(response.get_data(as_text=True))
