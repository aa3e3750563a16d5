"""A broken qualification file stops the commands that load the rules with one sentence naming
the file, the key and what is wrong, never a traceback: the operator who wrote the file reads
it at the command line (``lti-tool serve``, ``lti-tool worker``, the admin commands)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lti_tool.cli import main

FIXTURE = Path(__file__).parents[1] / "fixtures" / "qualifications" / "wound-care.toml"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "qualifications"
    folder.mkdir()
    # The wound-care certificate with WC1's hours miscounted (its courses give 30).
    broken = FIXTURE.read_text().replace("cpd_hours = 30", "cpd_hours = 25", 1)
    (folder / "wound-care.toml").write_text(broken)
    values = {
        "LTI_TOOL_ENV": "development",
        "LTI_TOOL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "LTI_TOOL_INSTANCE_DIR": str(tmp_path),
        "LTI_TOOL_QUALIFICATIONS_DIR": str(folder),
        "LTI_TOOL_DEFAULT_QUALIFICATION": "WOUND-CARE",
    }
    assert CliRunner().invoke(main, ["init"], env=values).exit_code == 0
    return values


def run(env: dict[str, str], *args: str, **extra: str) -> Result:
    return CliRunner().invoke(main, list(args), env={**env, **extra})


def said_in_one_sentence(result: Result, *words: str) -> None:
    """The command stopped with click's one-line error, not an exception of its own."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.output.startswith("Error: "), result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    for word in words:
        assert word in result.output, result.output


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(("serve", "--port", "PORT"), id="serve"),
        pytest.param(("serve", "--port", "PORT", "--workers", "2"), id="serve-gunicorn"),
        pytest.param(("mapping", "show", "moodle"), id="mapping"),
    ],
)
def test_a_miscounted_module_is_one_sentence(env: dict[str, str], command: tuple[str, ...]) -> None:
    args = [str(free_port()) if arg == "PORT" else arg for arg in command]
    result = run(env, *args)
    said_in_one_sentence(result, "wound-care.toml", "modules[0].cpd_hours", "is 25")


def test_the_worker_refuses_before_it_waits_for_jobs(env: dict[str, str]) -> None:
    result = run(env, "worker", "--burst", LTI_TOOL_REDIS_URL="redis://127.0.0.1:6379/15")
    said_in_one_sentence(result, "wound-care.toml", "modules[0].cpd_hours")


def test_a_default_no_file_defines_is_one_sentence(env: dict[str, str], tmp_path: Path) -> None:
    # The broken file is found first; with it mended, the unknown default.
    first = run(env, "serve", "--port", str(free_port()), LTI_TOOL_DEFAULT_QUALIFICATION="NOPE")
    said_in_one_sentence(first, "modules[0].cpd_hours")
    folder = Path(env["LTI_TOOL_QUALIFICATIONS_DIR"])
    (folder / "wound-care.toml").write_text(FIXTURE.read_text())
    result = run(env, "serve", "--port", str(free_port()), LTI_TOOL_DEFAULT_QUALIFICATION="NOPE")
    said_in_one_sentence(result, "NOPE", "WOUND-CARE", "LTI_TOOL_DEFAULT_QUALIFICATION")


def test_a_missing_folder_is_one_sentence(env: dict[str, str], tmp_path: Path) -> None:
    result = run(
        env, "serve", "--port", str(free_port()), LTI_TOOL_QUALIFICATIONS_DIR=str(tmp_path / "x")
    )
    said_in_one_sentence(result, "is not a folder", "LTI_TOOL_QUALIFICATIONS_DIR")
