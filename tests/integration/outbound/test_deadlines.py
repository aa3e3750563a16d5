"""Outbound calls cannot hold a thread (issue 10, item 3): one total deadline per call, and a
``Retry-After`` of an hour is never waited for."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import requests

from lti_tool.outbound.http import OutboundSession, OutboundTimeout, OutboundTooLarge
from lti_tool.outbound.policy import OutboundPolicy
from lti_tool.outbound.retry import UNAUTHENTICATED, RetryRule, retry_after_seconds

LOOPBACK = OutboundPolicy(development=True, allow_loopback=True)
Handler = Callable[[socket.socket], None]


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], tuple[str, list[int]]]]:
    """Start a raw loopback server running ``handler`` per connection; its URL and a list
    that counts the requests it received."""
    servers: list[socket.socket] = []

    def start(handler: Handler) -> tuple[str, list[int]]:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        servers.append(server)
        hits: list[int] = []

        def loop() -> None:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                hits.append(1)
                threading.Thread(target=_handle, args=(handler, conn), daemon=True).start()

        threading.Thread(target=loop, daemon=True).start()
        return f"http://127.0.0.1:{server.getsockname()[1]}/", hits

    yield start
    for server in servers:
        server.close()


def _handle(handler: Handler, conn: socket.socket) -> None:
    try:
        conn.recv(65536)
        handler(conn)
    except OSError:
        pass
    finally:
        conn.close()


def _trickle_body(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n")
    for _ in range(60):
        conn.sendall(b" ")
        time.sleep(1)


def _trickle_headers(conn: socket.socket) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 60:
        conn.sendall(bytes([byte]))
        time.sleep(0.5)


def _trickle_tls_handshake(conn: socket.socket) -> None:
    # A TLS handshake record header announcing 16 KB, then its bytes one at a time.
    conn.sendall(b"\x16\x03\x03\x40\x00")
    for _ in range(120):
        conn.sendall(b"\x00")
        time.sleep(0.5)


@pytest.mark.parametrize(
    ("handler", "scheme"),
    [(_trickle_body, "http"), (_trickle_headers, "http"), (_trickle_tls_handshake, "https")],
)
def test_a_trickling_server_cannot_hold_the_call_past_its_deadline(
    serve: Callable[[Handler], tuple[str, list[int]]], handler: Handler, scheme: str
) -> None:
    url, _ = serve(handler)
    url = url.replace("http:", scheme + ":", 1)
    session = OutboundSession(LOOPBACK, timeout=1.5)
    started = time.monotonic()
    with pytest.raises(OutboundTimeout):
        session.get(url)
    assert time.monotonic() - started < 3.0  # a per-read timeout would wait a minute


def test_a_503_with_retry_after_an_hour_is_answered_at_once(
    serve: Callable[[Handler], tuple[str, list[int]]],
) -> None:
    def unavailable(conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3600\r\n"
            b"Content-Length: 4\r\nConnection: close\r\n\r\nbusy"
        )

    url, hits = serve(unavailable)
    started = time.monotonic()
    answer = OutboundSession(LOOPBACK, timeout=2.0).get(url)
    assert answer.status_code == 503
    assert time.monotonic() - started < 2.0
    assert len(hits) == 1  # no retry by the session itself


def test_the_service_client_caps_retry_after(
    serve: Callable[[Handler], tuple[str, list[int]]],
) -> None:
    """An authenticated caller that does retry (LTI services) waits seconds, not an hour."""
    from lti_tool.lti.service_client import ToolServiceConnector
    from lti_tool.lti.service_errors import ServiceCallFailed
    from lti_tool.outbound.retry import Backoff

    def unavailable(conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3600\r\n"
            b"Content-Length: 0\r\nConnection: close\r\n\r\n"
        )

    url, hits = serve(unavailable)
    connector = ToolServiceConnector.__new__(ToolServiceConnector)
    connector._http = OutboundSession(LOOPBACK, timeout=2.0)
    connector._backoff = Backoff(retries=1, base=0.01, cap=0.01)
    connector._retry = RetryRule(retries=1, max_wait_seconds=0.2)
    started = time.monotonic()
    with pytest.raises(ServiceCallFailed):
        connector._send("GET", url)
    assert time.monotonic() - started < 2.0
    assert len(hits) == 2


def test_a_body_over_the_cap_is_refused(serve: Callable[[Handler], tuple[str, list[int]]]) -> None:
    def big(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 200_000)

    url, _ = serve(big)
    with pytest.raises(OutboundTooLarge):
        OutboundSession(LOOPBACK, timeout=2.0, max_body_bytes=100_000).get(url)


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3600", 30.0), ("2", 2.0), ("-5", 0.0), ("soon", None), (None, None), ("nan", None)],
)
def test_retry_after_is_read_and_capped(header: str | None, expected: float | None) -> None:
    assert retry_after_seconds(header) == expected


def test_unauthenticated_calls_never_wait() -> None:
    assert UNAUTHENTICATED.retries == 0
    assert UNAUTHENTICATED.wait("3600", fallback=5.0) == 0.0


def test_a_refused_address_is_a_requests_error_for_old_callers() -> None:
    with pytest.raises(requests.RequestException):
        OutboundSession(OutboundPolicy(), timeout=1.0).get("https://127.1/")
