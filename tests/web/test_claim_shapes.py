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
PG = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def _launch_with(
    launcher: Launcher,
    user: str,
    changes: dict[str, Any],
    *,
    drop: tuple[str, ...] = (),
    deep_link: bool = False,
) -> tuple[int, str]:
    """A signed launch of ``user`` with ``changes`` made to its claims (and ``drop`` left
    out): the answer's status and text."""
    client = launcher.app.test_client()
    login = launcher.login(client, user)
    if deep_link:
        claims = deep_link_claims(launcher.platform, user, login.nonce)
    else:
        claims = launcher.claims(user, login.nonce)
    claims.update(changes)
    for claim in drop:
        claims.pop(claim, None)
    response = launcher.post_launch(client, launcher.platform.sign(claims), login.state)
    return response.status_code, html.unescape(response.get_data(as_text=True))


@SQLITE
@pytest.mark.parametrize(
    "value", [[c.RESOURCE_LINK_REQUEST], {"type": "x"}], ids=["list", "object"]
)
def test_message_type_of_the_wrong_type_is_a_400(launcher: Launcher, value: Any) -> None:
    status, text = _launch_with(launcher, "student1", {c.MESSAGE_TYPE: value})
    assert status == 400, status
    assert "Traceback" not in text


@SQLITE
@pytest.mark.parametrize("value", ["settings", ["ltiResourceLink"]], ids=["string", "list"])
def test_deep_linking_settings_of_the_wrong_type_is_a_400(launcher: Launcher, value: Any) -> None:
    changes = {c.DEEP_LINKING_SETTINGS: value}
    status, _ = _launch_with(launcher, "teacher1", changes, deep_link=True)
    assert status == 400, status


@SQLITE
@pytest.mark.parametrize(
    ("ags", "for_user"),
    [(7, {"user_id": "1001"}), ({"lineitem": "x"}, 7)],
    ids=["ags endpoint a number", "for_user a number"],
)
def test_submission_review_claims_of_the_wrong_type_are_a_400(
    launcher: Launcher, ags: Any, for_user: Any
) -> None:
    changes = {c.MESSAGE_TYPE: c.SUBMISSION_REVIEW_REQUEST, c.AGS: ags, c.FOR_USER: for_user}
    status, _ = _launch_with(launcher, "teacher1", changes)
    assert status == 400, status


@SQLITE
@pytest.mark.parametrize(
    "claim", [c.CONTEXT, c.CUSTOM, c.LAUNCH_PRESENTATION, c.TOOL_PLATFORM, c.NRPS, c.AGS]
)
def test_an_object_claim_that_is_not_an_object_is_a_400(launcher: Launcher, claim: str) -> None:
    status, text = _launch_with(launcher, "student1", {claim: ["not", "an", "object"]})
    assert status == 400, status
    assert "is not an object" in text


@SQLITE
def test_a_submission_review_without_for_user_is_a_400(launcher: Launcher) -> None:
    changes = {c.MESSAGE_TYPE: c.SUBMISSION_REVIEW_REQUEST}
    status, text = _launch_with(launcher, "teacher1", changes, drop=(c.FOR_USER,))
    assert status == 400, status
    assert "has no for_user claim" in text


@PG
def test_a_sub_longer_than_255_characters_is_a_400(launcher: Launcher) -> None:
    status, text = _launch_with(launcher, "student1", {"sub": "u" * 256})
    assert status == 400, status
    assert "longer than 255 characters" in text
