"""Settings from TOML and LTI_TOOL_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from lti_tool.lti.registry import RegistryError, check_platform_url
from lti_tool.settings import SettingsError, load_settings, normalise_database_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///var/x.db", "sqlite:///var/x.db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_database_urls_map_to_the_installed_driver(url: str, expected: str) -> None:
    assert normalise_database_url(url) == expected


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "LTI_TOOL_ENV": "development",
            "LTI_TOOL_DATABASE_URL": "postgres://x@y/z",
            "LTI_TOOL_REDIS_URL": "redis://127.0.0.1:6379/1",
            "LTI_TOOL_BASE_URL": "https://tool.example",
            "LTI_TOOL_SECRET_KEY": "s3cret",
            "LTI_TOOL_CLOCK_SKEW_SECONDS": "15",
            "LTI_TOOL_SANDBOX_ENABLED": "yes",
        }
    )
    assert settings.sqlalchemy_url == "postgresql+psycopg://x@y/z"
    assert settings.redis_url == "redis://127.0.0.1:6379/1"
    assert settings.base_url == "https://tool.example"
    assert settings.secret_key == "s3cret"
    assert settings.clock_skew_seconds == 15
    assert settings.sandbox_enabled is True


def test_production_requires_a_secret_key() -> None:
    with pytest.raises(SettingsError, match="LTI_TOOL_SECRET_KEY"):
        load_settings(environ={"LTI_TOOL_ENV": "production"})


def test_development_generates_and_keeps_a_secret(tmp_path: Path) -> None:
    env = {"LTI_TOOL_ENV": "development", "LTI_TOOL_INSTANCE_DIR": str(tmp_path)}
    first = load_settings(environ=env).secret_key
    assert len(first) > 40
    assert load_settings(environ=env).secret_key == first


@pytest.mark.parametrize(
    ("env", "value"), [("LTI_TOOL_CLOCK_SKEW_SECONDS", "soon"), ("LTI_TOOL_ENV", "staging")]
)
def test_bad_values_are_reported(env: str, value: str) -> None:
    with pytest.raises(SettingsError):
        load_settings(environ={env: value, "LTI_TOOL_SECRET_KEY": "x"})


@pytest.mark.parametrize(
    ("url", "development", "ok"),
    [
        ("https://moodle.example.ac.uk/mod/lti/auth.php", False, True),
        ("http://moodle.example.ac.uk/mod/lti/auth.php", False, False),
        ("http://moodle.example.ac.uk/mod/lti/auth.php", True, False),
        ("http://127.0.0.1:8080/mod/lti/auth.php", True, True),
        ("http://localhost:8080/auth", True, True),
        ("http://[::1]:8080/auth", True, True),
        ("http://127.0.0.1:8080/mod/lti/auth.php", False, False),
        ("ftp://x/y", True, False),
        ("/relative", True, False),
    ],
)
def test_platform_urls_must_be_https_except_loopback_in_development(
    url: str, development: bool, ok: bool
) -> None:
    if ok:
        assert check_platform_url(url, development=development, field="f") == url
    else:
        with pytest.raises(RegistryError):
            check_platform_url(url, development=development, field="f")


@pytest.mark.parametrize("days", [0, -1])
def test_a_grace_period_under_a_day_stops_the_tool(days: int) -> None:
    """A negative grace period unpublished the old key the moment a routine rotation staged
    its successor, while it went on signing for ten minutes (platforms refused every grade
    sync and deep link meanwhile); none at all made every routine rotation show as an
    emergency's "withdrawn at once" on the keys page and in `keys list`."""
    with pytest.raises(SettingsError, match="key_grace_period_days must be 1 or more, got"):
        load_settings(overrides={"env": "development", "key_grace_period_days": days}, environ={})
    with pytest.raises(SettingsError, match="key_grace_period_days must be 1 or more"):
        load_settings(
            overrides={"env": "development"}, environ={"LTI_TOOL_KEY_GRACE_PERIOD_DAYS": str(days)}
        )
