"""The ports ``lti-tool serve`` and ``lti-tool sandbox`` listen on, and the loopback URLs that
follow them: a tool moved to another port must not keep announcing (and registering) 5000."""

from __future__ import annotations

import errno
import socket
from urllib.parse import urlsplit, urlunsplit

import click

from lti_tool.lti.registry import is_loopback_host

PORT = click.IntRange(1, 65535)


def url_port(url: str) -> int | None:
    parts = urlsplit(url)
    try:
        return parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None


def follow_port(url: str, port: int) -> str:
    """``url`` served on ``port`` instead, when it names this machine (loopback) on another
    port; any other URL (a tunnel, a proxy's public name) is the operator's and is kept."""
    parts = urlsplit(url)
    if not is_loopback_host(parts.hostname) or url_port(url) == port:
        return url
    host = parts.hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def port_problem(host: str, port: int, option: str, what: str) -> str | None:
    """Why ``what`` cannot listen on ``host``:``port``, in words, or None when it can."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # As the servers do: a port only in TIME_WAIT after a restart is free to use.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except PermissionError:
            return (
                f"{what} cannot use port {port}: ports below 1024 need administrator rights. "
                f"Choose a port from 1024 to 65535 with {option}."
            )
        except OSError as exc:
            return listen_error(exc, host, port, option, what)
    return None


def listen_error(exc: OSError, host: str, port: int, option: str, what: str) -> str:
    """An operating-system refusal to listen, in words."""
    if exc.errno == errno.EADDRINUSE:
        return (
            f"{what} cannot start: port {port} is already in use (another program, or an "
            f"earlier `lti-tool serve` still running). Stop it, or choose another port with "
            f"{option}."
        )
    if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) or isinstance(exc, socket.gaierror):
        return f"{what} cannot listen on {host}: it is not an address of this machine."
    if exc.errno == errno.EACCES:
        return f"{what} is not allowed to use port {port}: choose another with {option}."
    return f"{what} cannot listen on {host} port {port}: {exc.strerror or exc}."


def require_free(host: str, port: int, option: str, what: str) -> None:
    problem = port_problem(host, port, option, what)
    if problem:
        raise click.ClickException(problem)
