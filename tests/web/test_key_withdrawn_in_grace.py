"""An emergency rotation (``lti-tool keys rotate --now``, "Replace the key now") withdraws
every key still in the JWKS, the one in its grace period after a routine rotation too: each
such key says it was withdrawn, and when, on the keys page and in ``lti-tool keys list``,
never "published until" the moment it was taken out. A key whose grace period was already
over is left as it was: it says until when it was published."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from lti_tool.admin.identity import command_line_identity
from lti_tool.admin.keys import list_keys, rotate_keys
from lti_tool.container import Services
from lti_tool.lti.keys import KeyInfo
from lti_tool.web.formatting import when
from tests.support.key_clock import KeyClock
from tests.support.pathway_web import parse_html
from tests.web.test_admin_access import tool_admin
from tests.web.test_cli_audit import cli


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> KeyClock:
    return KeyClock(monkeypatch)


def _rotate(services: Services, clock: KeyClock) -> KeyInfo:
    """A routine rotation, and the time until the new key signs."""
    key = rotate_keys(services, command_line_identity("ops"))
    clock.advance(key.activates_at - clock.now)
    return key


def test_every_key_an_emergency_takes_out_says_it_was_withdrawn(
    tool: Flask, clock: KeyClock
) -> None:
    services: Services = tool.extensions["lti_tool"]
    (oldest,) = list_keys(services)
    _rotate(services, clock)
    clock.advance(dt.timedelta(days=services.settings.key_grace_period_days + 1))
    in_grace = _rotate(services, clock)  # the oldest's grace period is over
    signing = _rotate(services, clock)  # in_grace is in its grace period
    clock.advance(dt.timedelta(hours=3))
    emergency = clock.now

    replacement = rotate_keys(services, command_line_identity("ops"), at_once=True)

    jwks = tool.test_client().get("/.well-known/jwks.json").get_json()
    assert [k["kid"] for k in jwks["keys"]] == [replacement.kid]
    keys = {k.kid: k for k in list_keys(services)}
    assert keys[in_grace.kid].is_withdrawn and keys[signing.kid].is_withdrawn
    assert keys[in_grace.kid].withdrawn_at == keys[signing.kid].withdrawn_at == emergency
    assert keys[in_grace.kid].retired_at == signing.activates_at < emergency
    assert not keys[oldest.kid].is_withdrawn and not keys[replacement.kid].is_withdrawn

    page = tool_admin(tool).get("/admin/keys").get_data(as_text=True)
    rows = {
        row.find("th").text: {td.attrs["data-label"]: td.text for td in row.find_all("td")}
        for row in parse_html(page).find("tbody").find_all("tr")
    }
    zone = ZoneInfo(services.settings.timezone)
    with tool.app_context():
        said = f"{when(signing.activates_at, zone)}, withdrawn {when(emergency, zone)}"
    stopped = rows[in_grace.kid]["Stops signing"]
    assert stopped == said
    assert "published until" not in stopped
    assert rows[signing.kid]["Stops signing"].endswith(", withdrawn at once")
    assert "published until" in rows[oldest.kid]["Stops signing"]

    lines = {
        line.split()[0]: line for line in cli(tool)("keys", "list").output.strip().splitlines()
    }
    said = f"retired, withdrawn {emergency:%Y-%m-%d %H:%M}Z"
    assert lines[in_grace.kid].endswith(said), lines[in_grace.kid]
    assert lines[signing.kid].endswith(said), lines[signing.kid]
    assert "withdrawn" not in lines[oldest.kid] and " until " in lines[oldest.kid]
    assert lines[replacement.kid].endswith("active")
