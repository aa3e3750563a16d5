"""Addresses and numbers from someone else's word: an unclosed IPv6 bracket, a port past
65535, ``;`` in a host, a number in superscript or past any id. Each gets a plain refusal or
is read as absent, never a 500, and nothing of it reaches a header (attacks found by an
outside review)."""

from __future__ import annotations

import html

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from lti_tool.persistence.models import CompletionSourceConfig, Registration
from tests.support.dynreg import Lms
from tests.support.lti import Launcher, staff_launch
from tests.support.pathway_web import csrf_token
from tests.web.test_admin_access import sandbox_pk, tool_admin
from tests.web.test_admin_add_platform import NEW, inputs

UNREADABLE = ["https://[::1", "https://lms.example:99999/", "https://[::1]:0x/"]


def _admin(launcher: Launcher) -> tuple[FlaskClient, int]:
    """A signed-in tool admin's browser, and the sandbox registration's id."""
    return tool_admin(launcher.app), sandbox_pk(launcher.app)


def _post_form(client: FlaskClient, path: str, fields: dict[str, str]) -> TestResponse:
    """An admin form posted as its page would: with the page's CSRF token."""
    page = client.get(path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_token(page), **fields})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("issuer", "https://[::1"),
        ("authorization_endpoint", "https://[::1"),
        ("jwks_uri", "https://[::1"),
        ("registration_endpoint", "https://[::1"),
        ("registration_endpoint", "http://127.0.0.1:99999/mod/lti/openid-registration.php"),
    ],
)
def test_a_configuration_with_an_unreadable_address_is_refused_in_words(
    launcher: Launcher, lms: Lms, field: str, value: str
) -> None:
    """Anyone can start a registration with a configuration served from their own host."""
    lms.moodle.overrides[field] = value
    response = launcher.app.test_client().get(lms.moodle_start())
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page
    assert "bad_configuration" in page or "foreign_registration_endpoint" in page


def test_the_configuration_address_adds_nothing_to_the_security_policy(
    launcher: Launcher,
) -> None:
    url = (
        "https://lms.example; script-src-elem * 'unsafe-inline'; report-uri "
        "https://evil.example/r/.well-known/openid-configuration"
    )
    response = launcher.app.test_client().get(
        "/lti/register", query_string={"openid_configuration": url}
    )
    policy = response.headers["Content-Security-Policy"]
    assert "script-src-elem" not in policy and "report-uri" not in policy
    assert "evil.example" not in policy and "'unsafe-inline';" not in policy.split("style-src")[0]
    assert response.status_code < 500


@pytest.mark.parametrize("url", UNREADABLE)
def test_the_completion_source_form_refuses_an_unreadable_address(
    launcher: Launcher, url: str
) -> None:
    client, pk = _admin(launcher)
    for kind in ("moodle", "canvas"):
        form = {"kind": kind, "endpoint_url": url, "token": "t"}
        response = _post_form(client, f"/admin/registrations/{pk}/source", form)
        assert response.status_code in {200, 400, 409, 422}, (kind, response.status_code)


@pytest.mark.parametrize("url", UNREADABLE)
def test_adding_a_platform_refuses_an_unreadable_address(launcher: Launcher, url: str) -> None:
    client = tool_admin(launcher.app)
    asked = client.get(NEW, query_string={"step": "details", "kind": "moodle", "site_address": url})
    assert asked.status_code < 500
    page = client.get(NEW, query_string={"step": "details", "kind": "other"}).get_data(as_text=True)
    good = {
        **inputs(page),
        "name": "p",
        "issuer": "https://p.example",
        "client_id": "c",
        "auth_login_url": "https://p.example/a",
        "auth_token_url": "https://p.example/t",
        "key_set_url": "https://p.example/k",
        "kind": "other",
    }
    for field in ("issuer", "auth_login_url", "auth_token_url", "key_set_url"):
        response = client.post(NEW, data={**good, field: url})
        assert response.status_code == 422, (field, response.status_code)
        assert "Give a full web address" in html.unescape(response.get_data(as_text=True))
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        assert session.scalar(select(Registration.id).where(Registration.name == "p")) is None


@pytest.mark.parametrize("url", UNREADABLE)
def test_changing_a_platforms_endpoints_refuses_an_unreadable_address(
    launcher: Launcher, url: str
) -> None:
    client, pk = _admin(launcher)
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        before = session.scalar(select(Registration.key_set_url).where(Registration.id == pk))
    for step in ({}, {"step": "apply"}):
        form = {"key_set_url": url, **step}
        response = _post_form(client, f"/admin/registrations/{pk}/endpoints", form)
        assert response.status_code < 500
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        after = session.scalar(select(Registration.key_set_url).where(Registration.id == pk))
    assert after == before


@pytest.mark.parametrize(
    "query",
    [
        "page=%C2%B2",
        "page=99999999999999999999999",
        "course=99999999999999999999999",
        "course=%C2%B2",
    ],
)
def test_the_audit_log_reads_an_unusable_number_as_absent(launcher: Launcher, query: str) -> None:
    response = tool_admin(launcher.app).get("/admin/audit?" + query)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/context/students?group=99999999999999999999999",
        "/api/context/students?offset=99999999999999999999999",
        "/api/context/students?limit=%C2%B2",
        "/staff/class/?group=99999999999999999999999",
        "/staff/class/?page=99999999999999999999999",
        "/staff/class/completion/?page=99999999999999999999999",
        "/staff/class/export.csv?group=99999999999999999999999",
    ],
)
def test_the_class_pages_read_an_unusable_number_as_absent(launcher: Launcher, path: str) -> None:
    client, headers = staff_launch(launcher)
    assert client.get(path, headers=headers).status_code == 200


def test_a_referer_that_is_no_address_opens_no_page_session(launcher: Launcher) -> None:
    """Without Fetch Metadata the page token's origin is read from Referer: an unreadable one
    is simply not the tool's."""
    _, headers = staff_launch(launcher)
    token = headers["Authorization"].removeprefix("Bearer ")
    response = launcher.app.test_client().get(
        "/staff/", query_string={"launch_token": token}, headers={"Referer": "http://[::1/x"}
    )
    assert response.status_code < 500


@pytest.mark.parametrize(
    "form",
    [
        {"code": "GB080", "course_id": "1" * 65},
        {"code": "GB080", "course_id": "12", "activity_id": "9" * 65},
    ],
    ids=["course id", "activity id"],
)
def test_a_mapping_longer_than_its_column_is_refused_in_words(
    launcher: Launcher, form: dict[str, str]
) -> None:
    """PostgreSQL refuses a value longer than its column: said on the form, not a 500."""
    client, pk = _admin(launcher)
    response = _post_form(client, f"/admin/registrations/{pk}/mapping", form)
    assert response.status_code < 500
    shown = client.get(response.headers.get("Location") or f"/admin/registrations/{pk}/mapping")
    assert "longer than 64 characters" in html.unescape(
        response.get_data(as_text=True) + shown.get_data(as_text=True)
    )


def _set_source(client: FlaskClient, path: str, fields: dict[str, str]) -> TestResponse:
    """Stage a completion-source change on its form; when it is accepted, confirm it."""
    staged = _post_form(client, path, fields)
    if staged.status_code == 302:
        return _post_form(client, staged.headers["Location"], {})
    return staged


@pytest.mark.parametrize(
    ("kind", "stored", "hostile"),
    [
        # urlsplit reads moodle.example.ac.uk; requests connects to evil.example.
        ("moodle", "https://moodle.example.ac.uk", "https://evil.example\\@moodle.example.ac.uk"),
        ("moodle", "https://moodle.example.ac.uk", "https://evil.example@moodle.example.ac.uk"),
        # Python's idna codec reads fass.example; requests connects to xn--fa-hia.example.
        ("canvas", "https://fass.example", "https://faß.example"),
    ],
    ids=["backslash", "user name", "international name"],
)
def test_the_stored_token_goes_only_to_the_host_it_went_to(
    launcher: Launcher, kind: str, stored: str, hostile: str
) -> None:
    """An admin who does not know the source's token changes its address to one that reads
    as the same host but connects to another, and leaves the token empty ("keep it")."""
    client, pk = _admin(launcher)
    path = f"/admin/registrations/{pk}/source"
    first = _set_source(client, path, {"kind": kind, "endpoint_url": stored, "token": "SECRET"})
    assert first.status_code == 302, first.get_data(as_text=True)
    attempt = _set_source(client, path, {"kind": kind, "endpoint_url": hostile, "token": ""})
    assert attempt.status_code == 422, attempt.get_data(as_text=True)
    services = launcher.app.extensions["lti_tool"]
    with services.db.read_only() as session:
        row = session.scalar(select(CompletionSourceConfig))
        assert row is not None and row.endpoint_url is not None
        assert "evil" not in row.endpoint_url and "ß" not in row.endpoint_url
