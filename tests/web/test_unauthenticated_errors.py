"""Requests anyone can send that used to end in a 500 (found by an outside review): ids past the
database's integer range in the login path, an openid_configuration URL that does not parse;
and database errors, which are logged, leave out the values they were sent."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lti_tool.container import Services
from tests.support.lti import Launcher

STORAGE = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
HUGE = "99999999999999999999999"
EMAIL = "nurse@example.org"


@STORAGE
@pytest.mark.parametrize("pk", [HUGE, str(2**31)])
def test_a_login_path_id_past_the_integer_range_is_not_found(launcher: Launcher, pk: str) -> None:
    client = launcher.app.test_client()
    params = launcher.platform.login_params("student1")
    answers = [
        client.get(f"/lti/login/{pk}", query_string=params),
        client.post(f"/lti/login/{pk}", data={**params, "lti_storage_target": "_parent"}),
        client.get(f"/lti/login/window/{pk}", query_string=params),
    ]
    assert [a.status_code for a in answers] == [404, 404, 404]


@STORAGE
def test_the_largest_id_is_still_looked_up(launcher: Launcher) -> None:
    params = launcher.platform.login_params("student1")
    answer = launcher.app.test_client().get(f"/lti/login/{2**31 - 1}", query_string=params)
    assert answer.status_code == 400
    assert "unknown_registration" in answer.get_data(as_text=True)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("url", ["http://[::1", "https://[::1/x?registration_token=t"])
def test_an_unparseable_configuration_url_is_a_plain_refusal(launcher: Launcher, url: str) -> None:
    answer = launcher.app.test_client().get(
        "/lti/register", query_string={"openid_configuration": url}
    )
    assert answer.status_code == 400
    assert "not a valid URL" in answer.get_data(as_text=True)


@STORAGE
def test_a_database_error_does_not_carry_the_values_it_was_sent(launcher: Launcher) -> None:
    services: Services = launcher.app.extensions["lti_tool"]
    with pytest.raises(DBAPIError) as raised, services.db.read_only() as session:
        session.execute(text("SELECT * FROM no_such_table WHERE x = :v"), {"v": EMAIL})
    assert EMAIL not in str(raised.value)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_error_pages_speak_to_nurses_not_developers(launcher: Launcher) -> None:
    """Outside review: a page opened without a session said "the token is missing, forged or
    expired", and an unknown address gave Werkzeug's words for developers."""
    client = launcher.app.test_client()
    for path, words in (
        ("/me", "Your session with the pathway tool has ended"),
        ("/staff/class/", "Your session with the pathway tool has ended"),
        ("/no-such-page", "There is no page at this address in the pathway tool"),
    ):
        page = client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
        visible = page.split("<details", 1)[0]
        assert words in visible, path
        for jargon in ("forged", "token", "URL", "HTTP", "no_session", "manually"):
            assert jargon not in visible.split("<main", 1)[-1], (path, jargon)
        assert "Reference for support" in page and "Details for support staff" in page
