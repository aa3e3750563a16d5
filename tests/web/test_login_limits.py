"""An anonymous login must not make the tool keep large records: each login parameter has a
length cap and the login's body a small limit (an outside review stored 9 MB with ten logins
carrying a 900 000-character lti_message_hint)."""

from __future__ import annotations

import pytest

from lti_tool.container import Services
from tests.support.lti import Launcher

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _kept(launcher: Launcher, kind: str) -> int:
    services: Services = launcher.app.extensions["lti_tool"]
    return services.store.delete_matching(kind, lambda record: True)


@SQLITE
@pytest.mark.parametrize("storage", [{}, {"lti_storage_target": "_parent"}])
def test_a_login_with_a_huge_message_hint_is_refused_and_nothing_is_kept(
    launcher: Launcher, storage: dict[str, str]
) -> None:
    client = launcher.app.test_client()
    params = {**launcher.platform.login_params("student1"), **storage}
    answer = client.post("/lti/login", data={**params, "lti_message_hint": "A" * 900_000})
    assert answer.status_code == 413
    over_cap = client.post("/lti/login", data={**params, "lti_message_hint": "A" * 5000})
    assert over_cap.status_code == 400
    assert "lti_message_hint is longer than 4096 characters" in over_cap.get_data(as_text=True)
    assert "Set-Cookie" not in over_cap.headers
    assert _kept(launcher, "cookie_check") == 0
    assert _kept(launcher, "state") == 0


@SQLITE
@pytest.mark.parametrize(
    "name", ["iss", "login_hint", "target_link_uri", "client_id", "lti_deployment_id"]
)
def test_every_kept_login_parameter_has_a_cap(launcher: Launcher, name: str) -> None:
    params = {**launcher.platform.login_params("student1"), name: "x" * 5000}
    for method in ("GET", "POST"):
        client = launcher.app.test_client()
        if method == "GET":
            answer = client.get("/lti/login/window", query_string=params)
        else:
            answer = client.post("/lti/login", data=params)
        assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
        assert "login_param_too_long" in answer.get_data(as_text=True)
    assert _kept(launcher, "cookie_check") == 0


@SQLITE
def test_a_real_length_message_hint_still_logs_in(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    login = launcher.login(client, lti_message_hint="h" * 4096)
    assert login.params["lti_message_hint"] == "h" * 4096
