"""Production settings an operator can get wrong, refused at start-up with a sentence that
names the variable (as a missing LTI_TOOL_SECRET_KEY already is), rather than a tool that
dies with a traceback in every worker."""

from __future__ import annotations

import pytest

from lti_tool.settings import SettingsError, load_settings, trusted_proxies

SECRET = "Qm9vdHN0cmFwLXNlY3JldC1mb3ItdGhlLXBhdGh3YXktdG9vbA"
PRODUCTION = {
    "LTI_TOOL_ENV": "production",
    "LTI_TOOL_SECRET_KEY": SECRET,
    "LTI_TOOL_BASE_URL": "https://pathway.example.ac.uk",
}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        # A proxy named by host name (docker-compose's "nginx"): it cannot be matched against
        # the address a request comes from (ipaddress raised ValueError in create_app).
        ("LTI_TOOL_TRUSTED_PROXIES", "nginx"),
        ("LTI_TOOL_TRUSTED_PROXIES", "10.0.0.5, proxy.internal"),
        ("LTI_TOOL_TRUSTED_PROXIES", "10.0.0.0/33"),
        # redis-py's ValueError from create_app.
        ("LTI_TOOL_REDIS_URL", "127.0.0.1:6379"),
        ("LTI_TOOL_REDIS_URL", "http://127.0.0.1:6379/0"),
    ],
)
def test_malformed_proxy_and_redis_settings_are_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings(environ={**PRODUCTION, name: value})


@pytest.mark.parametrize(
    ("value", "read"),
    [
        ("", []),
        (" , ", []),  # nothing named: no proxy is trusted (not every address)
        ("1", 1),
        ("10.0.0.5, 10.0.1.0/24,::1", ["10.0.0.5/32", "10.0.1.0/24", "::1/128"]),
    ],
)
def test_trusted_proxies_as_the_readme_describes_them(value: str, read: object) -> None:
    settings = load_settings(environ={**PRODUCTION, "LTI_TOOL_TRUSTED_PROXIES": value})
    found = trusted_proxies(settings.trusted_proxies)
    assert (found if isinstance(found, int) else [str(n) for n in found]) == read


@pytest.mark.parametrize(
    "url",
    ["", "redis://127.0.0.1:6379/0", "rediss://:pw@cache.example:6380/1", "unix:///run/r.sock"],
)
def test_redis_urls_redis_py_reads_are_taken(url: str) -> None:
    assert load_settings(environ={**PRODUCTION, "LTI_TOOL_REDIS_URL": url}).redis_url == url
