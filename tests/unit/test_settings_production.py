"""Production settings an operator can get wrong, refused at start-up with a sentence that
names the variable (as a missing LTI_TOOL_SECRET_KEY already is), rather than a tool that
dies with a traceback in every worker."""

from __future__ import annotations

from pathlib import Path

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


@pytest.mark.parametrize(
    "base_url",
    [None, "http://pathway.example.ac.uk", "ftp://pathway.example.ac.uk", "pathway.example.ac.uk"],
    ids=["not-set", "plain-http", "not-a-web-address", "no-scheme"],
)
def test_production_refuses_a_base_url_platforms_cannot_use(base_url: str | None) -> None:
    """Unset, production used the shipped http://127.0.0.1:5000: `platform add`, "What to
    paste into the LMS", /lti/canvas.json and Dynamic Registration all named it."""
    environ = {k: v for k, v in PRODUCTION.items() if k != "LTI_TOOL_BASE_URL"}
    if base_url is not None:
        environ["LTI_TOOL_BASE_URL"] = base_url
    with pytest.raises(SettingsError, match="LTI_TOOL_BASE_URL"):
        load_settings(environ=environ)


def test_production_takes_https_and_an_address_of_this_machine_given_on_purpose() -> None:
    assert load_settings(environ=PRODUCTION).base_url == "https://pathway.example.ac.uk"
    local = {**PRODUCTION, "LTI_TOOL_BASE_URL": "http://127.0.0.1:8080"}
    assert load_settings(environ=local).base_url == "http://127.0.0.1:8080"
    # The tool-admin commands seal and sign nothing, and name no address.
    bare = {"LTI_TOOL_ENV": "production"}
    assert load_settings(environ=bare, require_secret=False).secret_key == ""


@pytest.mark.parametrize("secret", ["x", "changeme", "a" * 31])
def test_production_refuses_a_short_secret_key(secret: str) -> None:
    """It keys the session and CSRF signature, the signed admin session the health page
    trusts during a Redis outage, and the box sealing the signing keys and LMS tokens."""
    with pytest.raises(SettingsError, match="LTI_TOOL_SECRET_KEY must be at least 32"):
        load_settings(environ={**PRODUCTION, "LTI_TOOL_SECRET_KEY": secret})
    assert load_settings(environ={**PRODUCTION, "LTI_TOOL_SECRET_KEY": "a" * 32}).secret_key


def test_a_settings_file_naming_no_base_url_or_the_shipped_one_is_refused(tmp_path: Path) -> None:
    """With LTI_TOOL_CONFIG, production fell back to the shipped http://127.0.0.1:5000 (as it
    did for a copy of the shipped file), which every platform was then given."""
    secret = {"LTI_TOOL_SECRET_KEY": SECRET}
    for text in (
        'env = "production"\ndatabase_url = "postgresql://lti@db/lti"\n',
        'env = "production"\nbase_url = "http://127.0.0.1:5000"\n',
    ):
        config = tmp_path / "settings.toml"
        config.write_text(text, encoding="utf-8")
        with pytest.raises(SettingsError, match="LTI_TOOL_BASE_URL is not set"):
            load_settings(environ={"LTI_TOOL_CONFIG": str(config), **secret})
    config.write_text('env = "production"\nbase_url = "https://pathway.example.ac.uk"\n')
    found = load_settings(environ={"LTI_TOOL_CONFIG": str(config), **secret})
    assert found.base_url == "https://pathway.example.ac.uk"
