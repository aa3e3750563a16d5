"""Anyone can open /lti/register: what a stranger's configuration makes the tool keep is bounded
(an outside review kept ~250 KB per anonymous GET for an hour). A configuration over 64 KB or
with oversized lists is refused; a pending install keeps only what the tool asks about."""

from __future__ import annotations

from typing import Any

from flask import Flask

from lti_tool.container import Services
from lti_tool.lti.dynreg.configuration import PLATFORM_CONFIGURATION
from lti_tool.lti.dynreg.flow import PENDING_KIND, PENDING_TTL_SECONDS
from tests.support.dynreg import Lms
from tests.support.lti import form_fields

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"


def _pending(app: Flask) -> list[dict[str, Any]]:
    services: Services = app.extensions["lti_tool"]
    kept: list[dict[str, Any]] = []
    services.store.delete_matching(PENDING_KIND, lambda record: kept.append(record) or False)
    return kept


def test_a_configuration_over_64_kb_is_refused_and_nothing_is_kept(
    sqlite_tool_factory: Any, lms: Lms
) -> None:
    lms.moodle.overrides["scopes_supported"] = [f"s{i:07d}" for i in range(7000)]  # ~77 KB
    app = sqlite_tool_factory().app
    response = app.test_client().get(lms.moodle_start())
    assert response.status_code == 502, response.get_data(as_text=True)
    assert "answered too much" in response.get_data(as_text=True)
    assert _pending(app) == []


def test_a_configuration_listing_too_much_is_refused(sqlite_tool_factory: Any, lms: Lms) -> None:
    lms.moodle.overrides["scopes_supported"] = [f"s{i}" for i in range(1001)]
    app = sqlite_tool_factory().app
    response = app.test_client().get(lms.moodle_start())
    assert response.status_code == 400
    assert "more than 1000 entries" in response.get_data(as_text=True)
    assert _pending(app) == []


def test_a_pending_install_keeps_only_what_the_tool_asks_about(
    sqlite_tool_factory: Any, lms: Lms
) -> None:
    padding = ["x" * 250 + str(i) for i in range(60)]
    lms.moodle.overrides["scopes_supported"] = [AGS + "score", *padding]
    lms.moodle.overrides[PLATFORM_CONFIGURATION] = {
        "product_family_code": "moodle",
        "version": "4.5.6",
        "messages_supported": [
            {"type": "LtiResourceLinkRequest"},
            *({"type": name} for name in padding),
        ],
        "variables": ["Context.id.history", *padding],
    }
    app = sqlite_tool_factory().app
    page = app.test_client().get(lms.moodle_start())
    assert page.status_code == 200, page.get_data(as_text=True)
    assert form_fields(page.get_data(as_text=True))["install_id"]
    [record] = _pending(app)
    config = record["config"]
    assert config["scopes_supported"] == [AGS + "score"]
    assert config["variables"] == ["Context.id.history"]
    assert list(config["messages"]) == ["LtiResourceLinkRequest"]
    assert PENDING_TTL_SECONDS <= 1800
