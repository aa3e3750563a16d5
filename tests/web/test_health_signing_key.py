"""The health page reads the tool's signing key. A tool started with another
LTI_TOOL_SECRET_KEY than the one its database was sealed under (a restore onto a new server,
a typo in the service's environment file) cannot sign deep linking answers or grade sync's
token requests, and nothing else tells the operator before a teacher's placement fails."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask

from lti_tool.persistence.models import SigningKey
from tests.conftest import make_tool
from tests.support.lti import Launcher
from tests.web.test_admin_access import tool_admin
from tests.web.test_admin_health import checks


@contextmanager
def _restarted(launcher: Launcher, tmp_path: Path, **overrides: Any) -> Iterator[Flask]:
    """The launcher's database under a tool restarted with ``overrides``."""
    url = launcher.app.extensions["lti_tool"].settings.database_url
    (tmp_path / "restarted").mkdir()
    app = make_tool({"database_url": url, **overrides}, tmp_path / "restarted")
    try:
        yield app
    finally:
        app.extensions["lti_tool"].close()


def _signing_key(app: Flask) -> tuple[str, str]:
    return checks(tool_admin(app).get("/admin/health").get_data(as_text=True))["Signing key"]


def test_health_reports_a_signing_key_the_secret_cannot_open(
    sqlite_tool_factory: Any, tmp_path: Path
) -> None:
    sealed = sqlite_tool_factory(secret_key="the secret the database was sealed under")
    with _restarted(sealed, tmp_path, secret_key="a different secret in the env file") as app:
        state, detail = _signing_key(app)
    assert state == "Problem"
    assert "LTI_TOOL_SECRET_KEY is not the one it was saved with" in detail
    assert "lti-tool keys rotate" in detail


def test_health_says_the_signing_key_opens(launcher: Launcher) -> None:
    state, detail = _signing_key(launcher.app)
    assert state == "OK"
    assert detail.endswith("opens with this LTI_TOOL_SECRET_KEY")


def test_health_says_there_is_no_signing_key_before_init(
    sqlite_tool_factory: Any, tmp_path: Path
) -> None:
    without = sqlite_tool_factory()
    with without.app.extensions["lti_tool"].db.unit_of_work() as session:
        session.query(SigningKey).delete()
    assert _signing_key(without.app) == ("Problem", "there is none yet: run `lti-tool init`")


def test_health_reports_a_pending_key_the_secret_cannot_open(
    sqlite_tool_factory: Any, tmp_path: Path
) -> None:
    """A rotation run with other settings (a mistyped secret in the shell) staged a key the
    tool cannot open: said now, before it begins signing and every token request fails."""
    from lti_tool.admin.identity import command_line_identity
    from lti_tool.admin.keys import rotate_keys

    tool = sqlite_tool_factory(secret_key="the secret the database was sealed under")
    with _restarted(tool, tmp_path, secret_key="a mistyped secret in the shell") as other:
        pending = rotate_keys(other.extensions["lti_tool"], command_line_identity("ops"))
    state, detail = _signing_key(tool.app)
    assert state == "Problem"
    assert f"next signing key {pending.kid}" in detail and "begins signing at" in detail
    assert "Run `lti-tool keys rotate` again with the tool's own settings" in detail


def test_health_says_the_pending_key_opens_too(launcher: Launcher) -> None:
    from lti_tool.admin.identity import command_line_identity
    from lti_tool.admin.keys import rotate_keys

    pending = rotate_keys(launcher.app.extensions["lti_tool"], command_line_identity("ops"))
    state, detail = _signing_key(launcher.app)
    assert state == "OK"
    assert f"so does key {pending.kid}, which begins signing at" in detail
    assert f"{pending.activates_at:%Y-%m-%d %H:%M}Z" in detail
