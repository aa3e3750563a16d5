"""The first commands of a production install, run as an operator runs them (a real
subprocess with only the documented settings): `lti-tool init`, then `lti-tool serve`.
docs/architecture.md: a wrong setting reaching the command line is one sentence naming it,
never a traceback (`lti-tool admin` keeps that promise: test_cli_admin_production.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_cli_admin_production import lti_tool
from tests.integration.test_serve_ports import free_ports

SECRET = "production secret " * 3
WRONG_DATABASE_URLS = pytest.mark.parametrize(
    "url",
    [
        "mysql://tool@db.example/pathway",  # a driver that is not installed
        "not a url at all",
        "/srv/lti-tool/lti_tool.sqlite3",  # a path where a URL belongs
    ],
)


def _production(database_url: str) -> dict[str, str]:
    return {
        "LTI_TOOL_ENV": "production",
        "LTI_TOOL_SECRET_KEY": SECRET,
        "LTI_TOOL_DATABASE_URL": database_url,
        "LTI_TOOL_BASE_URL": "https://pathway.example.ac.uk",
    }


def _said_in_one_sentence(code: int, output: str, *words: str) -> None:
    assert code == 1, output
    assert "Traceback" not in output, output
    for word in words:
        assert word in output, output


@WRONG_DATABASE_URLS
def test_init_names_a_wrong_database_url_without_a_traceback(url: str, tmp_path: Path) -> None:
    code, output = lti_tool(["init"], _production(url), tmp_path)
    _said_in_one_sentence(
        code, output, "LTI_TOOL_DATABASE_URL", "is not a database the tool can use"
    )


@WRONG_DATABASE_URLS
def test_serve_names_a_wrong_database_url_without_a_traceback(url: str, tmp_path: Path) -> None:
    (port,) = free_ports(1)
    code, output = lti_tool(["serve", "--port", str(port)], _production(url), tmp_path)
    _said_in_one_sentence(
        code, output, "LTI_TOOL_DATABASE_URL", "is not a database the tool can use"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("LTI_TOOL_TRUSTED_PROXIES", "nginx"), ("LTI_TOOL_REDIS_URL", "127.0.0.1:6379")],
)
def test_serve_names_a_malformed_setting_without_a_traceback(
    name: str, value: str, tmp_path: Path
) -> None:
    settings = _production(f"sqlite:///{tmp_path / 'tool.sqlite3'}")
    code, output = lti_tool(["init"], settings, tmp_path)
    assert code == 0, output
    (port,) = free_ports(1)
    code, output = lti_tool(["serve", "--port", str(port)], {**settings, name: value}, tmp_path)
    _said_in_one_sentence(code, output, name)


def test_init_refuses_a_secret_key_the_database_was_not_sealed_under(tmp_path: Path) -> None:
    """A database restored onto a new server whose environment file has another secret."""
    settings = _production(f"sqlite:///{tmp_path / 'tool.sqlite3'}")
    code, output = lti_tool(["init"], settings, tmp_path)
    assert code == 0, output
    code, output = lti_tool(
        ["init"], {**settings, "LTI_TOOL_SECRET_KEY": "another " + SECRET}, tmp_path
    )
    _said_in_one_sentence(
        code, output, "LTI_TOOL_SECRET_KEY is not the one it was saved with", "lti-tool keys rotate"
    )
    assert "database ready" not in output
