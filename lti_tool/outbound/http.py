"""The one HTTP session for outbound calls: the URL policy, pinned connections, a total deadline.

``OutboundSession`` is a ``requests.Session`` (pylti1p3's service classes and our LMS clients
call it as one) that, on every call:

- checks the URL against ``OutboundPolicy`` and connects only to an address the policy vetted
  (resolved once, inside the connection: see ``_PinnedConnection``); TLS still verifies the
  certificate for the URL's host name (SNI and Host are the name, not the address);
- follows no redirect and uses no proxy from the environment;
- holds the call to one **total** deadline, connect + headers + every read of the body: a
  watchdog (``deadline.py``) shuts the socket when the deadline passes, so a server that
  trickles a byte a second cannot hold the thread (a per-read timeout never fires against it);
- reads the body here, streaming, up to a size cap, so callers get ``.content``/``.json()``
  as usual. No retries: the callers that may retry do so with ``retry.py``.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import socket
import time
from itertools import zip_longest
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import connection as urllib3_connection

from lti_tool.outbound.deadline import DeadlineCall
from lti_tool.outbound.policy import OutboundPolicy, OutboundRefused

USER_AGENT = "clinical-leadership-pathway-tool/0.1 (+LTI 1.3)"
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
_CHUNK = 16384
# getaddrinfo cannot be interrupted: lookups run here so the call's deadline still holds (a
# stuck lookup keeps a resolver thread, never the request's thread).
_RESOLVERS = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="resolve")


# A host's vetted addresses are kept this long for new connections (as a DNS cache would):
# the connection still goes to an address the policy checked, never re-resolved after the
# check, and a refusal is never kept. A server that closes every connection (or calls
# beyond the kept connections) otherwise costs a lookup, on a resolver thread, per call.
VETTED_SECONDS = 10.0
_VETTED: dict[tuple[OutboundPolicy, str, int], tuple[float, list[tuple[int, tuple[object, ...]]]]]
_VETTED = {}
# A name may list any number of addresses: the ones that drop the connection silently each
# take their connect time, within the call's deadline, and only this many are tried.
MAX_ADDRESSES_TRIED = 4


def addresses_to_try(
    addresses: list[tuple[int, tuple[object, ...]]],
) -> list[tuple[int, tuple[object, ...]]]:
    """The first ``MAX_ADDRESSES_TRIED`` addresses, the families taken in turn (RFC 8305
    section 4), so a host listing many IPv6 addresses is still tried on IPv4 when this
    machine has no IPv6 route."""
    families: dict[int, list[tuple[int, tuple[object, ...]]]] = {}
    for address in addresses:
        families.setdefault(address[0], []).append(address)
    ordered = [a for group in zip_longest(*families.values()) for a in group if a is not None]
    return ordered[:MAX_ADDRESSES_TRIED]


class OutboundTimeout(requests.exceptions.Timeout):
    """The call did not finish (connect, headers and body) within its total deadline."""


class OutboundTooLarge(requests.exceptions.ContentDecodingError):
    """The answer's body is larger than the call accepts."""


_CURRENT: contextvars.ContextVar[DeadlineCall | None] = contextvars.ContextVar(
    "outbound_call", default=None
)


class _PinnedConnection(HTTPConnection):
    """Resolves its host once through the policy and connects to a vetted address."""

    outbound_policy: OutboundPolicy = OutboundPolicy()

    def _new_conn(self) -> socket.socket:
        call = _CURRENT.get()
        try:
            addresses = self._vetted(call)
        except OutboundRefused as exc:
            if call is not None:
                call.refusal = exc
            raise
        last: OSError | None = None
        tried = addresses_to_try(addresses)
        for index, (_family, sockaddr) in enumerate(tried):
            # The watchdog cannot cut a connect (``self.sock`` is not set yet), so the time
            # left is read again before each address and shared among those still to try:
            # together they stay within the call, and a first address that drops the
            # connection silently (a broken IPv6 route) leaves time for the next.
            timeout = self._time_left(call)
            share = timeout / (len(tried) - index) if isinstance(timeout, float) else timeout
            try:
                # The checked address itself: nothing is resolved again after the check.
                sock = urllib3_connection.create_connection(
                    (str(sockaddr[0]), int(self.port)),
                    share,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as exc:
                last = exc
                continue
            if share is not timeout:
                sock.settimeout(timeout)  # the TLS handshake: the watchdog keeps the deadline
            return sock
        assert last is not None
        if call is not None and isinstance(last, TimeoutError):
            call.expire()  # the last address had all the time left: the call's deadline passed
            raise OutboundTimeout(f"connecting to {self._dns_host} took too long") from last
        raise last

    def _time_left(self, call: DeadlineCall | None) -> Any:
        """The connection's timeout cut to what is left of the call; ``OutboundTimeout``
        when nothing is."""
        if call is None:
            return self.timeout
        left = call.remaining()
        if left <= 0:
            raise OutboundTimeout(f"connecting to {self._dns_host} took too long")
        return min(float(self.timeout), left) if isinstance(self.timeout, int | float) else left

    def _vetted(self, call: DeadlineCall | None) -> list[tuple[int, tuple[object, ...]]]:
        key = (self.outbound_policy, self._dns_host, int(self.port))
        kept = _VETTED.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        lookup = _RESOLVERS.submit(
            self.outbound_policy.vetted_addresses, self._dns_host, int(self.port)
        )
        try:
            found = lookup.result(timeout=None if call is None else max(0.01, call.remaining()))
        except concurrent.futures.TimeoutError as exc:
            raise OutboundTimeout(f"looking up {self._dns_host} took too long") from exc
        if len(_VETTED) > 1000:
            _VETTED.clear()
        _VETTED[key] = (time.monotonic() + VETTED_SECONDS, found)
        return found

    def connect(self) -> None:
        # Watched from the start: a TLS handshake trickled byte by byte is cut off too.
        call = _CURRENT.get()
        if call is not None:
            call.watch(self)
        super().connect()

    def request(self, *args: Any, **kwargs: Any) -> None:
        call = _CURRENT.get()
        if call is not None:
            call.watch(self)
        super().request(*args, **kwargs)


class _PinnedHTTPSConnection(_PinnedConnection, HTTPSConnection):
    """``HTTPSConnection.connect`` calls ``_new_conn`` and then wraps TLS for ``self.host``."""


def _pools(policy: OutboundPolicy) -> dict[str, type[HTTPConnectionPool]]:
    http_conn = type("PinnedHTTPConnection", (_PinnedConnection,), {"outbound_policy": policy})
    https_conn = type(
        "PinnedHTTPSConnection", (_PinnedHTTPSConnection,), {"outbound_policy": policy}
    )
    http_pool = type("PinnedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn})
    https_pool = type("PinnedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn})
    return {"http": http_pool, "https": https_pool}


class _PinnedAdapter(HTTPAdapter):
    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        # Kept connections per host: as many as LMS calls may run at once in a process
        # (lms.source.UNIT_THREADS); a call over the limit would connect, and look the
        # host up, again.
        super().__init__(max_retries=0, pool_connections=20, pool_maxsize=64)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pools(self._policy)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise OutboundRefused("proxy", "Outbound calls do not go through a proxy.")


class OutboundSession(requests.Session):
    """Every outbound call the tool makes on someone else's word goes through one of these."""

    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        timeout: float,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        super().__init__()
        self.policy = policy
        self.default_timeout = timeout
        self.max_body_bytes = max_body_bytes
        self.trust_env = False  # no proxy or .netrc from the environment
        adapter = _PinnedAdapter(policy)
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.headers["User-Agent"] = USER_AGENT

    def request(
        self,
        method: str | bytes,
        url: str | bytes,
        *args: Any,
        timeout: Any = None,
        max_body_bytes: int | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One call within ``timeout`` seconds in all (the session's default when None)."""
        text_url = url.decode() if isinstance(url, bytes) else url
        self.policy.check_url(text_url)
        seconds = _seconds(timeout, self.default_timeout)
        cap = self.max_body_bytes if max_body_bytes is None else max_body_bytes
        kwargs["stream"] = True
        kwargs["allow_redirects"] = False  # a redirect would skip the URL check and the token
        call = DeadlineCall(seconds)
        token = _CURRENT.set(call)
        call.start()
        try:
            try:
                kwargs["timeout"] = (seconds, seconds)
                response = super().request(method, text_url, *args, **kwargs)
                with response:
                    body = _read_body(response, call, cap)
            except requests.RequestException as exc:
                if call.refusal is not None:
                    raise call.refusal from exc
                if call.expired() and not isinstance(exc, OutboundTooLarge):
                    raise _timeout(text_url, seconds) from exc
                raise
        finally:
            call.finish()
            _CURRENT.reset(token)
        response._content = body
        response._content_consumed = True  # type: ignore[attr-defined]
        return response


def _read_body(response: requests.Response, call: DeadlineCall, cap: int) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > cap:
        raise OutboundTooLarge(f"the answer is larger than {cap} bytes")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(_CHUNK):
        if call.expired():
            raise _timeout(response.url, call.seconds)
        size += len(chunk)
        if size > cap:
            raise OutboundTooLarge(f"the answer is larger than {cap} bytes")
        chunks.append(chunk)
    if call.expired():
        raise _timeout(response.url, call.seconds)
    return b"".join(chunks)


def _timeout(url: str, seconds: float) -> OutboundTimeout:
    where = url.split("?", 1)[0]
    return OutboundTimeout(f"{where} did not answer completely within {seconds:g} s")


def _seconds(timeout: Any, default: float) -> float:
    if isinstance(timeout, int | float) and timeout > 0:
        return float(timeout)
    if isinstance(timeout, tuple):
        values = [float(v) for v in timeout if isinstance(v, int | float)]
        if values:
            return max(values)
    return default
