"""``scripts/run``'s options: the ports it hands ``lti-tool serve`` and the URLs it sets, the
options it passes through, and plain refusals of bad ports. The script runs for real, in a copy
of the repository whose ``.venv`` holds a stand-in ``lti-tool`` that records how it was called."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
RECORDER = """#!/usr/bin/env bash
echo "$* | BASE=$LTI_TOOL_BASE_URL SANDBOX=$LTI_TOOL_SANDBOX_URL" >> "$CALLS"
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    for name in ("run", "_env.sh"):
        shutil.copy(REPOSITORY / "scripts" / name, root / "scripts" / name)
    pyproject = (REPOSITORY / "pyproject.toml").read_bytes()
    (root / "pyproject.toml").write_bytes(pyproject)
    venv = root / ".venv"
    (venv / "bin").mkdir(parents=True)
    # _env.sh installs only when its stamp for this pyproject.toml is missing.
    (venv / f".installed-{hashlib.sha256(pyproject).hexdigest()[:16]}").touch()
    for name, body in (("python", "#!/bin/sh\nexit 0\n"), ("lti-tool", RECORDER)):
        (venv / "bin" / name).write_text(body)
        (venv / "bin" / name).chmod(0o755)
    return root


def run(checkout: Path, *args: str, **env: str) -> tuple[int, str, list[str]]:
    calls = checkout / "calls.txt"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LTI_TOOL_")}
    environ.update(CALLS=str(calls), **env)
    done = subprocess.run(
        ["bash", str(checkout / "scripts" / "run"), *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = calls.read_text().splitlines() if calls.exists() else []
    return done.returncode, done.stdout + done.stderr, lines


def test_ports_set_every_url_and_other_options_pass_through(checkout: Path) -> None:
    code, said, calls = run(checkout, "--port", "8000", "--sandbox-port=8001", "--workers", "2")
    assert code == 0, said
    assert calls[0].startswith("init |")
    assert calls[1] == (
        "serve --host 127.0.0.1 --port 8000 --sandbox-port 8001 --sandbox --workers 2"
        " | BASE=http://127.0.0.1:8000 SANDBOX=http://127.0.0.1:8001"
    )


def test_ports_from_the_environment_and_the_defaults(checkout: Path) -> None:
    code, said, calls = run(checkout, LTI_TOOL_PORT="8100", LTI_TOOL_SANDBOX_PORT="8101")
    assert code == 0, said
    assert calls[1].endswith(
        "--port 8100 --sandbox-port 8101 --sandbox"
        " | BASE=http://127.0.0.1:8100 SANDBOX=http://127.0.0.1:8101"
    )
    (checkout / "calls.txt").unlink()
    code, said, calls = run(checkout)
    assert code == 0, said
    assert calls[1].endswith(
        "--port 5000 --sandbox-port 5001 --sandbox"
        " | BASE=http://127.0.0.1:5000 SANDBOX=http://127.0.0.1:5001"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--port", "eighty"], "the port must be a number from 1 to 65535, not 'eighty'"),
        (["--port", "0"], "the port must be a number from 1 to 65535, not '0'"),
        (["--sandbox-port=65536"], "the sandbox port must be a number from 1 to 65535"),
        (["--port"], "--port needs a port number"),
        (["--port", "5001"], "need two different ports (both are 5001)"),
    ],
)
def test_bad_ports_are_refused_in_words_before_anything_starts(
    checkout: Path, args: list[str], expected: str
) -> None:
    code, said, calls = run(checkout, *args)
    assert code == 2 and expected in said, said
    assert calls == []
