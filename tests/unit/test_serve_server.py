"""Which server `lti-tool serve` runs: Flask's own server only for development, gunicorn in
production whatever --workers says (Flask's server holds a thread per slow client with no
timeout, and nothing restarts it)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from lti_tool import serving
from lti_tool.cli import main

SECRET = "Qm9vdHN0cmFwLXNlY3JldC1mb3ItdGhlLXBhdGh3YXktdG9vbA"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    """Which server each `serve` started, with its arguments, instead of starting it."""
    started: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(serving, "run_gunicorn", lambda *a: started.append(("gunicorn", a)))
    monkeypatch.setattr(Flask, "run", lambda self, **kw: started.append(("flask", (kw,))))
    return started


def _serve(tmp_path: Path, environment: str, *args: str) -> Any:
    env = {
        "LTI_TOOL_ENV": environment,
        "LTI_TOOL_SECRET_KEY": SECRET,
        "LTI_TOOL_BASE_URL": "https://pathway.example.ac.uk",
        "LTI_TOOL_DATABASE_URL": f"sqlite:///{tmp_path / 'tool.db'}",
        "LTI_TOOL_REDIS_URL": "",
        "LTI_TOOL_CONFIG": "",
    }
    return CliRunner().invoke(main, ["serve", "--port", str(_free_port()), *args], env=env)


def test_production_runs_gunicorn_even_with_one_worker(
    tmp_path: Path, servers: list[tuple[str, tuple[Any, ...]]]
) -> None:
    result = _serve(tmp_path, "production")
    assert result.exit_code == 0, result.output
    assert [(name, args[2]) for name, args in servers] == [("gunicorn", 1)]


def test_development_keeps_flasks_server_for_one_worker_and_gunicorn_for_more(
    tmp_path: Path, servers: list[tuple[str, tuple[Any, ...]]]
) -> None:
    assert _serve(tmp_path, "development").exit_code == 0
    assert _serve(tmp_path, "development", "--workers", "3").exit_code == 0
    assert [name for name, _ in servers] == ["flask", "gunicorn"]
    assert servers[1][1][2] == 3


def test_no_workers_is_refused_in_words(
    tmp_path: Path, servers: list[tuple[str, tuple[Any, ...]]]
) -> None:
    result = _serve(tmp_path, "production", "--workers", "0")
    assert result.exit_code == 2 and "--workers" in result.output
    assert servers == []
