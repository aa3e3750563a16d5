"""``lti-tool serve --sandbox`` (what ``scripts/run`` starts) on ports other than 5000/5001:
every URL the sandbox registers, posts to and prints follows the ports, and a second run on
other ports with the same database moves the sandbox registration along. Real processes,
real HTTP, a launch followed form by form as a browser follows the auto-posting pages."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

START_LIMIT_SECONDS = 180
DEFAULT_PORTS = (":5000", ":5001")


def free_ports(count: int) -> list[int]:
    sockets = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A development environment like ``scripts/run``'s, with its own database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTI_TOOL_")}
    env.update(
        LTI_TOOL_ENV="development",
        LTI_TOOL_OUTBOUND_ALLOW_LOOPBACK="1",
        LTI_TOOL_DATABASE_URL=f"sqlite:///{tmp_path / 'var' / 'lti_tool.sqlite3'}",
        LTI_TOOL_INSTANCE_DIR=str(tmp_path / "var"),
        PYTHONPATH=os.pathsep.join(p for p in (os.getcwd(), os.environ.get("PYTHONPATH")) if p),
        **extra,
    )
    return env


def lti_tool(*args: str) -> list[str]:
    return [sys.executable, "-m", "lti_tool.cli", *args]


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_LIMIT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"lti-tool serve stopped: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(
        f"nothing listened on port {port} within {START_LIMIT_SECONDS} s: {log.read_text()}"
    )


@contextmanager
def serving(
    tmp_path: Path, args: list[str], env: dict[str, str], ports: list[int]
) -> Iterator[Path]:
    """``lti-tool serve ARGS`` until the block ends; yields the file of what it printed."""
    log = tmp_path / f"serve-{ports[0]}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            lti_tool("serve", *args), env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path
        )
    try:
        for port in ports:
            wait_for_port(port, process, log)
        yield log
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@dataclass
class Form:
    action: str
    fields: dict[str, str]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(named.get("action", ""), {}))
        elif tag == "input" and self.forms and named.get("name"):
            self.forms[-1].fields[named["name"]] = named.get("value", "")


def auto_post_form(page: str) -> Form:
    parser = _FormParser()
    parser.feed(page)
    assert len(parser.forms) == 1, page
    return parser.forms[0]


def wrong_ports(text: str, old: tuple[str, ...]) -> list[str]:
    """The URLs in ``text`` that name one of the ``old`` ports."""
    return [u for u in re.findall(r"https?://[^\s\"'<>]+", text) if any(p in u for p in old)]


def launch_over_http(tool: str, sandbox: str, user: str, old: tuple[str, ...]) -> str:
    """A sandbox launch as ``user``, each auto-posting page posted where it says; checks each
    page and address on the way names the ports in use and none of ``old``. Returns the page
    the tool lands on."""
    browser = requests.Session()
    home = browser.get(sandbox + "/", timeout=60)
    assert home.status_code == 200 and sandbox in home.text
    assert not wrong_ports(home.text, old)

    start = browser.get(f"{sandbox}/launch/{user}", timeout=60)
    login = auto_post_form(start.text)
    assert login.action == tool + "/lti/login"
    assert (
        login.fields["iss"] == sandbox and login.fields["target_link_uri"] == tool + "/lti/launch"
    )
    # The tool's login (past its cookie check) redirects to the sandbox's authorization
    # endpoint, whose page auto-posts the id_token back to the tool.
    authorize = browser.post(login.action, data=login.fields, timeout=60)
    assert authorize.status_code == 200, authorize.text
    assert authorize.url.startswith(sandbox + "/auth?"), authorize.url
    assert all(not wrong_ports(r.headers.get("Location", ""), old) for r in authorize.history)
    launch = auto_post_form(authorize.text)
    assert launch.action == tool + "/lti/launch" and "id_token" in launch.fields

    landed = browser.post(launch.action, data=launch.fields, timeout=60)
    assert landed.status_code == 200, landed.text
    assert landed.url.startswith(tool + "/"), landed.url
    assert not wrong_ports(landed.text, old)
    return landed.text


def sandbox_registration(tmp_path: Path) -> tuple[str, ...]:
    with sqlite3.connect(tmp_path / "var" / "lti_tool.sqlite3") as db:
        rows = db.execute(
            "SELECT issuer, auth_login_url, auth_token_url, key_set_url FROM registrations "
            "WHERE name = 'sandbox'"
        ).fetchall()
        sources = db.execute("SELECT * FROM completion_sources").fetchall()
    assert len(rows) == 1
    return (*rows[0], repr(sources))


def whole_database(tmp_path: Path) -> str:
    with sqlite3.connect(tmp_path / "var" / "lti_tool.sqlite3") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(
            f"{table}: {row!r}"
            for table in tables
            for row in db.execute(f'SELECT * FROM "{table}"')
        )


def test_the_sandbox_follows_the_ports_across_two_runs(tmp_path: Path) -> None:
    env = environment(tmp_path)
    init = subprocess.run(
        lti_tool("init"), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert init.returncode == 0, init.stdout + init.stderr

    first_tool, first_sandbox, second_tool, second_sandbox = free_ports(4)
    # First run: no URL set, as a fresh checkout; only the ports are given.
    ports = [first_tool, first_sandbox]
    args = ["--port", str(first_tool), "--sandbox-port", str(first_sandbox), "--sandbox"]
    tool, sandbox = f"http://127.0.0.1:{first_tool}", f"http://127.0.0.1:{first_sandbox}"
    with serving(tmp_path, args, env, ports) as log:
        page = launch_over_http(tool, sandbox, "student1", DEFAULT_PORTS)
        assert "My pathway" in page and "Sam Student" in page
        page = launch_over_http(tool, sandbox, "teacher1", DEFAULT_PORTS)
        assert "Course settings" in page
        printed = log.read_text()
    assert f"{sandbox}/" in printed and f"{tool}/" in printed
    assert not wrong_ports(printed, DEFAULT_PORTS), printed
    registered = sandbox_registration(tmp_path)
    assert all(sandbox in url for url in registered[:4]), registered
    assert not wrong_ports(" ".join(registered), DEFAULT_PORTS)

    # Second run, same database, other ports, URLs given as scripts/run gives them.
    old = (f":{first_tool}", f":{first_sandbox}", *DEFAULT_PORTS)
    tool, sandbox = f"http://127.0.0.1:{second_tool}", f"http://127.0.0.1:{second_sandbox}"
    env = environment(tmp_path, LTI_TOOL_BASE_URL=tool, LTI_TOOL_SANDBOX_URL=sandbox)
    args = ["--port", str(second_tool), "--sandbox-port", str(second_sandbox), "--sandbox"]
    with serving(tmp_path, args, env, [second_tool, second_sandbox]) as log:
        page = launch_over_http(tool, sandbox, "student1", old)
        assert "My pathway" in page and "Sam Student" in page
        printed = log.read_text()
    assert not wrong_ports(printed, old), printed
    registered = sandbox_registration(tmp_path)
    assert all(sandbox in url for url in registered[:4]), registered
    assert not wrong_ports(" ".join(registered), old)
    # Every row but the first run's launch sessions (they record launches made on its ports,
    # and expire): courses, service URLs, completion sources and the registration moved on.
    everything = "\n".join(
        line for line in whole_database(tmp_path).splitlines() if not line.startswith("ephemeral:")
    )
    assert not wrong_ports(everything, old), "\n".join(
        line[:300] for line in everything.splitlines() if wrong_ports(line, old)
    )


def test_a_taken_or_invalid_port_is_said_in_words(tmp_path: Path) -> None:
    env = environment(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        (other,) = free_ports(1)
        for args, option in (
            (["--port", str(port), "--sandbox-port", str(other)], "--port"),
            (["--port", str(other), "--sandbox-port", str(port)], "--sandbox-port"),
        ):
            done = subprocess.run(
                lti_tool("serve", "--sandbox", *args),
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=300,
            )
            said = done.stdout + done.stderr
            assert done.returncode == 1, said
            assert f"port {port} is already in use" in said and option in said, said
            assert "Traceback" not in said
    (same,) = free_ports(1)
    done = subprocess.run(
        lti_tool("serve", "--sandbox", "--port", str(same), "--sandbox-port", str(same)),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1 and f"both want port {same}" in done.stderr, done.stderr
    for bad in ("0", "70000", "eighty"):
        done = subprocess.run(
            lti_tool("serve", "--port", bad),
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        said = done.stdout + done.stderr
        assert done.returncode == 2 and "Invalid value for '--port'" in said, said
        assert "Traceback" not in said


def test_without_the_sandbox_a_loopback_tool_url_follows_the_port(tmp_path: Path) -> None:
    """Development without --sandbox: the JWKS and login URLs the tool prints and serves name
    the port it listens on; a URL that is not this machine's (a tunnel) is kept."""
    (port,) = free_ports(1)
    env = environment(tmp_path, LTI_TOOL_BASE_URL="http://127.0.0.1:5000")
    subprocess.run(lti_tool("init"), env=env, cwd=tmp_path, check=True, timeout=180)
    with serving(tmp_path, ["--port", str(port), "--workers", "2"], env, [port]) as log:
        printed = log.read_text()
        config = requests.get(f"http://127.0.0.1:{port}/lti/canvas.json", timeout=60)
    assert f"http://127.0.0.1:{port}/.well-known/jwks.json" in printed, printed
    assert not wrong_ports(printed, (":5000",)), printed
    assert config.status_code == 200, config.text
    assert f"http://127.0.0.1:{port}/lti/launch" in config.text
    assert not wrong_ports(config.text, (":5000",))

    tunnel = environment(tmp_path, LTI_TOOL_BASE_URL="https://tool.example.org")
    with serving(tmp_path, ["--port", str(port)], tunnel, [port]) as log:
        printed = log.read_text()
    assert "https://tool.example.org/.well-known/jwks.json" in printed, printed
