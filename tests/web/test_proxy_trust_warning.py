"""A hop count in LTI_TOOL_TRUSTED_PROXIES trusts X-Forwarded-For from whoever connects: the
tool says so in its log at start-up and suggests naming the proxy instead."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.tooling import captured_logs


@pytest.mark.parametrize(("setting", "warned"), [("1", True), ("127.0.0.1", False), ("", False)])
def test_a_hop_count_is_warned_about_at_start_up(
    sqlite_tool_factory: Any, setting: str, warned: bool
) -> None:
    with captured_logs() as logs:
        sqlite_tool_factory(trusted_proxies=setting)
    text = logs.getvalue()
    assert ("trusted_proxies_hop_count" in text) is warned
    if warned:
        assert "can forge X-Forwarded-For" in text and "10.0.0.5,10.0.1.0/24" in text
