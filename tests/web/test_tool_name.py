"""A tool deployed for another qualification is named for it: `LTI_TOOL_TOOL_NAME` is what the
LMS registers (Dynamic Registration, the Canvas developer key), what placed links say and
how every page title ends, not "Clinical leadership pathway" fixed in the code."""

from __future__ import annotations

from typing import Any

import pytest

from lti_tool.lti.dynreg.request import TOOL_CONFIGURATION
from lti_tool.settings import SettingsError, load_settings
from tests.support.dynreg import Lms
from tests.support.lti import Launcher, form_fields
from tests.web.test_deep_linking import RESPOND, open_picker, returned, returns, to_platform
from tests.web.test_deep_linking_title import MOODLE_SETTINGS
from tests.web.test_dynamic_registration import install

NAME = "Wound care pathway"


@pytest.fixture
def named(sqlite_tool_factory: Any) -> Launcher:
    launcher: Launcher = sqlite_tool_factory(tool_name=NAME)
    return launcher


def test_dynamic_registration_registers_the_tool_by_its_name(named: Launcher, lms: Lms) -> None:
    start = lms.moodle_start()
    page, done = install(named.app.test_client(), start)
    assert done.status_code == 200
    assert f"<h1>Install {NAME} in Moodle</h1>" in page
    [registered] = lms.moodle.registered
    assert registered.body["client_name"] == NAME
    labels = {m["label"] for m in registered.body[TOOL_CONFIGURATION]["messages"]}
    assert labels == {NAME}


def test_the_canvas_developer_key_names_the_tool(named: Launcher) -> None:
    config = named.app.test_client().get("/lti/canvas.json").get_json()
    assert config["title"] == NAME
    placements = config["extensions"][0]["settings"]["placements"]
    assert [p["text"] for p in placements] == [NAME, NAME, f"{NAME}: assessment module"]
    assert "Clinical leadership" not in str(config)


def test_page_titles_end_with_the_name(named: Launcher) -> None:
    client = named.app.test_client()
    for path in ("/admin/login", "/no-such-page"):
        page = client.get(path).get_data(as_text=True)
        assert f" — {NAME}</title>" in page, path
        assert "Clinical leadership pathway" not in page


@pytest.mark.parametrize("raw", ["", "   ", "x" * 101])
def test_an_empty_or_overlong_name_stops_the_tool(raw: str) -> None:
    with pytest.raises(SettingsError, match="tool_name must be 1 to 100 characters"):
        load_settings(overrides={"env": "development", "tool_name": raw}, environ={})


def test_spaces_in_the_name_are_tidied() -> None:
    settings = load_settings(
        overrides={"env": "development", "tool_name": "  Wound   care pathway "}, environ={}
    )
    assert settings.tool_name == NAME


def test_the_name_the_lms_registered_before_a_rename_is_no_link_title(named: Launcher) -> None:
    """A tool registered before it was renamed: the LMS keeps the name it registered, the
    shipped one, and Moodle suggests it as the title of an activity added without a name. The
    placed module is still named as its gradebook column, not after the tool."""
    client = named.app.test_client()
    named.platform.tool_jwks_source = lambda: client.get("/.well-known/jwks.json").get_json()
    response, _ = open_picker(named, client, accept_multiple=True, settings=MOODLE_SETTINGS)
    page = response.get_data(as_text=True)
    fields = form_fields(page)
    assert 'value="Clinical leadership pathway"' not in page  # not pre-filled with it
    answer = client.post(
        RESPOND,
        data={
            "launch_token": fields["launch_token"],
            "item": "B832",
            "title": MOODLE_SETTINGS["title"],  # left in the field, as an older picker did
            "text": "",
        },
    )
    action, jwt_value = returned(answer.get_data(as_text=True))
    assert to_platform(named, action, jwt_value).status_code == 200
    [placed] = returns(named).placed[-1]["items"]
    assert placed["title"] == "B832 Leading health service delivery and improvement"


@pytest.mark.parametrize("raw", ["Wound\u202ecare pathway", "Wound\x00care", "Wound\u200bcare"])
def test_a_name_with_control_or_direction_characters_stops_the_tool(raw: str) -> None:
    with pytest.raises(SettingsError, match="no control or direction characters"):
        load_settings(overrides={"env": "development", "tool_name": raw}, environ={})
