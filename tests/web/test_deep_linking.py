"""Deep Linking 2.0 end to end: sandbox request → tool picker → signed response → sandbox
return endpoint, which checks the response as a platform must before placing anything."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from flask import template_rendered
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from lti_tool.lti import claims as c
from lti_tool.lti.deeplink.settings import DeepLinkingRefused, DeepLinkingSettings
from lti_tool.lti.keys import active_signing_key, private_pem
from lti_tool.sandbox.deep_linking import DeepLinkReturns, deep_link_claims
from tests.support.lti import Launcher, form_fields, launch_token

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
RESPOND = "/lti/deep-link/respond"
_CHOICE = re.compile(r'<input type="(checkbox|radio)" id="[^"]*" name="item" value="([^"]*)"')
_RETURN_FORM = re.compile(r'<form id="deep-link-return" method="post" action="([^"]+)">')


def open_picker(
    launcher: Launcher,
    client: FlaskClient,
    user: str = "teacher1",
    settings: dict[str, Any] | None = None,
    **options: Any,
) -> tuple[TestResponse, dict[str, Any]]:
    """A signed deep-linking launch; ``settings`` changes the deep_linking_settings claim."""
    login = launcher.login(client, user)
    claims = deep_link_claims(launcher.platform, user, login.nonce, **options)
    claims[c.DEEP_LINKING_SETTINGS].update(settings or {})
    response = launcher.post_launch(client, launcher.platform.sign(claims), login.state)
    return response, claims


def choices(page: str) -> list[tuple[str, str]]:
    return _CHOICE.findall(page)


def returned(page: str) -> tuple[str, str]:
    """The return page's form: (action, JWT)."""
    match = _RETURN_FORM.search(page)
    assert match, page
    return match.group(1), form_fields(page)["JWT"]


def unverified(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def to_platform(launcher: Launcher, action: str, token: str) -> TestResponse:
    return launcher.sandbox.post(urlsplit(action).path, data={"JWT": token})


def returns(launcher: Launcher) -> DeepLinkReturns:
    record = launcher.sandbox.application.extensions["deep_linking"]
    assert isinstance(record, DeepLinkReturns)
    return record


@contextmanager
def rendered(launcher: Launcher) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    seen: list[tuple[str, dict[str, Any]]] = []

    def record(sender: Any, template: Any, context: dict[str, Any], **extra: Any) -> None:
        seen.append((template.name, context))

    template_rendered.connect(record, launcher.app)
    try:
        yield seen
    finally:
        template_rendered.disconnect(record, launcher.app)


def test_round_trip_places_the_checklist_and_graded_modules(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    response, claims = open_picker(launcher, client)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "Choose what to place" in page
    assert choices(page) == [("checkbox", "checklist"), ("checkbox", "B832"), ("checkbox", "B833")]
    fields = form_fields(page)
    assert fields["launch_token"] == launch_token(page)

    answer = client.post(
        RESPOND,
        data={"launch_token": fields["launch_token"], "item": ["B833", "checklist", "B832"]},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["Cache-Control"] == "no-store"
    action, token = returned(answer.get_data(as_text=True))
    assert action == launcher.platform.issuer + "/deep-link/return"
    assert "Continue</button>" in answer.get_data(as_text=True)

    accepted = to_platform(launcher, action, token)
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    assert "3 item(s) placed" in accepted.get_data(as_text=True)
    placed = returns(launcher).placed[-1]
    assert placed["data"] == claims[c.DEEP_LINKING_SETTINGS]["data"]
    items = placed["items"]
    assert [i["title"] for i in items] == [
        "Qualification checklist",
        "B832 Leading health service delivery and improvement",
        "B833 Leading healthcare innovation",
    ]
    assert {i["type"] for i in items} == {"ltiResourceLink"}
    assert {i["url"] for i in items} == {"http://localhost/lti/launch"}
    assert items[0]["custom"] == {"view": "checklist"} and "lineItem" not in items[0]
    assert items[1]["custom"] == {"view": "assessment", "module": "B832"}
    assert items[1]["lineItem"] == {
        "label": "B832 Leading health service delivery and improvement",
        "scoreMaximum": 100,
        "resourceId": "B832",
        "tag": "B832",
    }
    assert items[2]["lineItem"]["resourceId"] == "B833"
    assert items[1]["iframe"] == {"height": 900}
    assert placed["msg"] and placed["errormsg"] is None


def test_the_response_verifies_against_the_tools_jwks_and_names_our_kid(
    launcher: Launcher,
) -> None:
    client = launcher.app.test_client()
    response, _ = open_picker(launcher, client, settings={"data": {"nested": ["opaque", 1]}})
    fields = form_fields(response.get_data(as_text=True))
    answer = client.post(RESPOND, data={"launch_token": fields["launch_token"], "item": "B832"})
    _, token = returned(answer.get_data(as_text=True))

    jwks = client.get("/.well-known/jwks.json").get_json()
    kid = jwt.get_unverified_header(token)["kid"]
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        key = active_signing_key(session)
        assert key is not None and kid == key.kid
    public = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid)).key
    body = jwt.decode(
        token,
        public,
        algorithms=["RS256"],
        audience=launcher.platform.issuer,
        issuer=launcher.platform.client_id,
    )
    assert body["exp"] - body["iat"] == 300
    assert isinstance(body["nonce"], str) and len(body["nonce"]) >= 16
    assert body[c.DEPLOYMENT_ID] == launcher.platform.deployment_id
    assert body[c.MESSAGE_TYPE] == "LtiDeepLinkingResponse"
    assert body[c.VERSION] == "1.3.0"
    assert body[DL + "data"] == {"nested": ["opaque", 1]}
    assert [i["custom"]["module"] for i in body[DL + "content_items"]] == ["B832"]


def test_data_is_echoed_only_when_the_request_had_it(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    login = launcher.login(client, "teacher1")
    claims = deep_link_claims(launcher.platform, "teacher1", login.nonce)
    del claims[c.DEEP_LINKING_SETTINGS]["data"]
    page = launcher.post_launch(client, launcher.platform.sign(claims), login.state)
    fields = form_fields(page.get_data(as_text=True))
    answer = client.post(RESPOND, data={"launch_token": fields["launch_token"], "cancel": "1"})
    _, token = returned(answer.get_data(as_text=True))
    body = unverified(token)
    assert DL + "data" not in body
    assert body[DL + "content_items"] == []


def test_a_single_item_platform_gets_radios_and_one_item(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    response, _ = open_picker(
        launcher,
        client,
        accept_multiple=False,
        settings={"title": "Week 4 assessment", "text": "Submit by Friday"},
    )
    page = response.get_data(as_text=True)
    assert [kind for kind, _ in choices(page)] == ["radio", "radio", "radio"]
    # Cancel is not dressed as the primary action.
    cancel = '<button type="submit" name="cancel" value="1" class="secondary" formnovalidate>'
    assert cancel + "Cancel</button>" in page
    assert 'value="Week 4 assessment"' in page and 'value="Submit by Friday"' in page
    token = form_fields(page)["launch_token"]

    two = client.post(RESPOND, data={"launch_token": token, "item": ["B832", "B833"]})
    assert two.status_code == 400
    assert "choose just one" in two.get_data(as_text=True)

    one = client.post(
        RESPOND,
        data={
            "launch_token": token,
            "item": "B833",
            "title": "Week 4 assessment",
            "text": "Submit by Friday",
        },
    )
    action, jwt_value = returned(one.get_data(as_text=True))
    assert to_platform(launcher, action, jwt_value).status_code == 200
    [item] = returns(launcher).placed[-1]["items"]
    assert (item["title"], item["text"]) == ("Week 4 assessment", "Submit by Friday")
    assert item["lineItem"]["label"] == "B833 Leading healthcare innovation"


def test_no_line_items_when_the_platform_ignores_them(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    response, _ = open_picker(launcher, client, accept_lineitem=False)
    page = response.get_data(as_text=True)
    assert "gradebook column" not in page
    token = form_fields(page)["launch_token"]
    answer = client.post(RESPOND, data={"launch_token": token, "item": ["B832", "B833"]})
    action, jwt_value = returned(answer.get_data(as_text=True))
    assert to_platform(launcher, action, jwt_value).status_code == 200
    items = returns(launcher).placed[-1]["items"]
    assert [i["custom"]["module"] for i in items] == ["B832", "B833"]
    assert all("lineItem" not in i for i in items)


def test_a_student_deep_linking_launch_is_refused(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    response, _ = open_picker(launcher, client, user="student1")
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Only course staff can choose what this tool places" in page
    assert "Choose what to place" not in page


@pytest.mark.parametrize("multiple", [True, False])
def test_placing_with_nothing_chosen_asks_to_choose(launcher: Launcher, multiple: bool) -> None:
    client = launcher.app.test_client()
    response, _ = open_picker(launcher, client, settings={"accept_multiple": multiple})
    token = form_fields(response.get_data(as_text=True))["launch_token"]
    answer = client.post(RESPOND, data={"launch_token": token, "title": "Week 1"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "to place in the course, or press Cancel." in page
    assert 'role="alert"' in page and "Choose what to place" in page
    assert 'value="Week 1"' in page  # what was typed stays
    assert returns(launcher).placed == []
    # The picker still works: a choice now is placed.
    fields = form_fields(page)
    placed = client.post(RESPOND, data={"launch_token": fields["launch_token"], "item": "B832"})
    _, jwt_value = returned(placed.get_data(as_text=True))
    assert len(unverified(jwt_value)[DL + "content_items"]) == 1


@pytest.mark.parametrize("form", [{"cancel": "1"}, {"cancel": "1", "item": "B832"}])
def test_an_empty_choice_sends_an_empty_content_items_array(
    launcher: Launcher, form: dict[str, str]
) -> None:
    client = launcher.app.test_client()
    response, claims = open_picker(launcher, client)
    token = form_fields(response.get_data(as_text=True))["launch_token"]
    answer = client.post(RESPOND, data={"launch_token": token, **form})
    page = answer.get_data(as_text=True)
    assert "without placing anything" in page
    action, jwt_value = returned(page)
    assert unverified(jwt_value)[DL + "content_items"] == []
    assert to_platform(launcher, action, jwt_value).status_code == 200
    placed = returns(launcher).placed[-1]
    assert placed["items"] == []
    assert placed["data"] == claims[c.DEEP_LINKING_SETTINGS]["data"]


def test_a_platform_that_takes_no_lti_links_is_told_plainly(launcher: Launcher) -> None:
    # pylti1p3's deep-linking validator refuses the launch itself; the page says why.
    client = launcher.app.test_client()
    response, _ = open_picker(launcher, client, accept_types=("link", "file"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "resource link" in page and "Choose what to place" not in page


@pytest.mark.parametrize(
    ("claim", "multiple", "lineitem", "links"),
    [
        ({}, False, None, False),
        ({"accept_multiple": "true", "accept_lineitem": "false"}, True, False, False),
        ({"accept_multiple": False, "accept_types": ["ltiResourceLink"]}, False, None, True),
    ],
)
def test_settings_are_read_as_the_spec_defines_them(
    claim: dict[str, Any], multiple: bool, lineitem: bool | None, links: bool
) -> None:
    settings = DeepLinkingSettings.from_claim(
        {"deep_link_return_url": "https://lms/r", **claim}, "Clinical leadership pathway"
    )
    assert settings.accept_multiple is multiple  # no default in the spec: one item is safe
    assert settings.accept_lineitem is lineitem
    assert settings.accepts_resource_links is links
    assert settings.has_data is False


def test_a_return_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(DeepLinkingRefused):
        DeepLinkingSettings.from_claim({"deep_link_return_url": "javascript:alert(1)"}, "Tool")


def test_forged_unknown_or_used_launch_tokens_are_refused(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    response, _ = open_picker(launcher, client)
    token = form_fields(response.get_data(as_text=True))["launch_token"]
    stranger = launcher.app.test_client()  # no cookie: only the token could authenticate
    for forged in (token[:-2] + "xx", "unknown-token"):
        refused = stranger.post(RESPOND, data={"launch_token": forged, "item": "B832"})
        assert refused.status_code == 401
        bearer = stranger.post(
            RESPOND, data={"item": "B832"}, headers={"Authorization": f"Bearer {forged}"}
        )
        assert bearer.status_code == 401
    # The form token works from a browser without the session cookie, and only once.
    assert stranger.post(RESPOND, data={"launch_token": token, "cancel": "1"}).status_code == 200
    again = stranger.post(RESPOND, data={"launch_token": token, "cancel": "1"})
    assert again.status_code == 401
    assert "already sent" in again.get_data(as_text=True)


def test_a_resource_link_session_cannot_send_a_deep_linking_response(
    launcher: Launcher,
) -> None:
    client = launcher.app.test_client()
    page = launcher.launch(client, "teacher1").get_data(as_text=True)
    refused = client.post(RESPOND, data={"launch_token": launch_token(page), "item": "B832"})
    assert refused.status_code == 401


def test_the_cookie_session_needs_the_csrf_token(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    response, _ = open_picker(launcher, client)
    fields = form_fields(response.get_data(as_text=True))
    without = client.post(RESPOND, data={"item": "B832"})
    assert without.status_code == 400
    assert "security token" in without.get_data(as_text=True)
    with_csrf = client.post(RESPOND, data={"item": "B832", "csrf_token": fields["csrf_token"]})
    assert with_csrf.status_code == 200, with_csrf.get_data(as_text=True)
    _, jwt_value = returned(with_csrf.get_data(as_text=True))
    assert len(unverified(jwt_value)[DL + "content_items"]) == 1


def test_the_sandbox_refuses_what_a_platform_must_refuse(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    response, _ = open_picker(launcher, client, accept_multiple=False)
    token = form_fields(response.get_data(as_text=True))["launch_token"]
    answer = client.post(RESPOND, data={"launch_token": token, "item": "B832"})
    action, good = returned(answer.get_data(as_text=True))
    body = unverified(good)
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        key = active_signing_key(session)
        assert key is not None
        pem, kid = private_pem(key, launcher.app.extensions["lti_tool"].secrets), key.kid

    def signed(changes: dict[str, Any]) -> str:
        return jwt.encode({**body, **changes}, pem, algorithm="RS256", headers={"kid": kid})

    item = body[DL + "content_items"][0]
    for changes in (
        {"aud": "https://another-platform.example"},
        {DL + "data": "opaque-forged"},
        {c.DEPLOYMENT_ID: "another-deployment"},
        {DL + "content_items": [item, item]},  # the request accepted one item
    ):
        assert to_platform(launcher, action, signed(changes)).status_code == 400, changes
    foreign = launcher.platform.sign(body)  # right claims, not the tool's key
    assert to_platform(launcher, action, foreign).status_code == 400
    assert to_platform(launcher, action, good).status_code == 200
    replayed = to_platform(launcher, action, good)
    assert replayed.status_code == 400
    assert "already" in replayed.get_json()["error_description"]


@pytest.mark.parametrize(
    ("user", "template"),
    [("student1", "student/checklist.html"), ("teacher1", "staff/overview.html")],
)
def test_a_placed_assessment_link_opens_at_its_module(
    launcher: Launcher, user: str, template: str
) -> None:
    client = launcher.app.test_client()
    response, _ = open_picker(launcher, client)
    token = form_fields(response.get_data(as_text=True))["launch_token"]
    answer = client.post(RESPOND, data={"launch_token": token, "item": ["checklist", "B832"]})
    action, jwt_value = returned(answer.get_data(as_text=True))
    assert to_platform(launcher, action, jwt_value).status_code == 200
    checklist, assessment = returns(launcher).placed[-1]["items"]

    for item, expected in ((assessment, "B832"), (checklist, None)):
        visitor = launcher.app.test_client()
        with rendered(launcher) as seen:
            opened = launcher.launch(
                visitor,
                user,
                changes={
                    c.CUSTOM: item["custom"],
                    c.TARGET_LINK_URI: item["url"],
                    c.RESOURCE_LINK: {"id": "placed-" + item["title"][:4], "title": item["title"]},
                },
            )
        assert opened.status_code == 200, opened.get_data(as_text=True)
        pages = [(name, ctx.get("focus_module")) for name, ctx in seen if name == template]
        assert pages == [(template, expected)]
