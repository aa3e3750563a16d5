"""An IPv6 client counts per /64: one subscriber picks any interface id in its /64 at will, so
counting whole addresses let it rotate past the limit (an outside review did)."""

from __future__ import annotations

from typing import Any

import pytest

from lti_tool.web.rate_limit import client_key


def test_rotating_the_interface_id_in_one_ipv6_64_is_still_limited(
    sqlite_tool_factory: Any,
) -> None:
    client = sqlite_tool_factory(rate_limit_register_per_minute=3).app.test_client()
    statuses = [
        client.get("/lti/register", environ_base={"REMOTE_ADDR": f"2001:db8::{i + 1}"}).status_code
        for i in range(5)
    ]
    assert statuses == [400, 400, 400, 429, 429]
    other = client.get("/lti/register", environ_base={"REMOTE_ADDR": "2001:db8:0:1::1"})
    assert other.status_code == 400  # another /64 is another client


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("198.51.100.7", "198.51.100.7"),
        (None, "unknown"),
        ("not-an-address", "not-an-address"),
    ],
)
def test_the_key_a_request_counts_against(address: str | None, key: str) -> None:
    assert client_key(address) == key
