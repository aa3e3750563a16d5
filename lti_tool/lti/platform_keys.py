"""Platform public keys (JWKS), cached and refetched once when an unknown ``kid`` arrives.

pylti1p3 caches a platform's JWKS only when ``set_public_key_caching`` is called and never
refetches on an unknown ``kid``, so a platform that rotates its key breaks every launch until
the cache expires; pylti1p3's own fetch (``MessageLaunch.fetch_public_key``) is not used: we
extend pylti1p3 here (``ToolMessageLaunch._verify_signature`` in ``lti/launch.py`` replaces its
signature check and asks this class for the key), so the fetch goes through
the outbound session (URL policy, total deadline, no retries: a launch is unauthenticated).
Here the JWKS lives in the shared store (any worker benefits from one fetch),
with a per-process copy in front of it, and an unknown ``kid`` triggers one refetch, at most
once per ``refetch_min_seconds`` per URL across all workers. A launch with that ``kid`` on
another worker while the refetch runs (a class launching just after the platform rotated its
key) waits for it, up to the outbound deadline, instead of being refused as "unknown kid".

Two sessions: the tool's (``outbound_allowed_hosts`` honoured: an on-premises Moodle's keys) and
the public-only one Dynamic Registration uses. A registration anyone may have made through
``/lti/register`` and nobody who runs the tool has let in fetches through the public one (the
caller says so: ``public_only``), or a stranger's ``jwks_uri`` would reach inside the private
network the allow-list opens. What a failed fetch says in the browser names no exception class
and no upstream status (they told a stranger which ports answer where): those are in the log,
under the request's correlation id.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt import PyJWK
from jwt.exceptions import PyJWTError

from lti_tool.errors import LaunchRefused, UpstreamError
from lti_tool.logs import log_event
from lti_tool.lti.store import EphemeralStore
from lti_tool.outbound.answers import response_json
from lti_tool.outbound.policy import OutboundRefused

_RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
# An EC key verifies the one algorithm of its curve (RFC 7518 section 3.4).
_EC_ALGORITHM_BY_CURVE = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
ASYMMETRIC_ALGORITHMS = _RSA_ALGORITHMS | frozenset(_EC_ALGORITHM_BY_CURVE.values())
# RFC 7518 section 3.3: "A key of size 2048 bits or larger MUST be used" with RS/PS algorithms.
MIN_RSA_BITS = 2048
_LOCAL_SECONDS = 60.0
log = logging.getLogger("lti_tool.platform_keys")


class PlatformKeys:
    """Finds the verification key for a (JWKS URL, kid, alg)."""

    def __init__(
        self,
        store: EphemeralStore,
        http: requests.Session,
        public_http: requests.Session,
        cache_seconds: int,
        refetch_min_seconds: int,
        refetch_wait_seconds: float = 5.0,
    ) -> None:
        self._store = store
        self._http = http
        self._public_http = public_http
        self._cache_seconds = cache_seconds
        self._refetch_min_seconds = refetch_min_seconds
        self._refetch_wait_seconds = refetch_wait_seconds
        self._local: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.fetch_count = 0

    def verification_key(
        self, url: str, kid: str, alg: str, *, public_only: Callable[[], bool] = lambda: False
    ) -> PyJWK:
        """The platform key named ``kid``; refused when absent or of another algorithm.
        ``public_only`` is asked only when the key set must be fetched: true, the fetch
        reaches public addresses only."""
        jwks = self._cached(url)
        if jwks is None:
            jwks = self._fetch(url, public_only)
        jwk = _find(jwks, kid)
        if jwk is None:
            shared = self._store.get("jwks", _url_key(url))
            if shared is not None and _find(shared, kid) is not None:
                jwks = shared  # another worker already refetched it
                self._remember(url, shared)
            else:
                # A public-only refetch (asked for by an unverified launch naming a held
                # deployment) has a slot of its own: it cannot keep out the refetch that
                # verified launches of a platform's new key need.
                public = public_only()
                slot = "jwksfetch_public" if public else "jwksfetch"
                if self._store.add(slot, _url_key(url), {}, self._refetch_min_seconds):
                    try:
                        jwks = self._fetch(url, lambda: public)
                    finally:  # launches waiting on other workers may look now
                        done = {"done": True}
                        self._store.put(slot, _url_key(url), done, self._refetch_min_seconds)
                else:
                    jwks = self._await_refetch(url, slot, kid) or jwks
            jwk = _find(jwks, kid)
        if jwk is None:
            raise LaunchRefused(
                "unknown_kid",
                "The launch was signed with a key the platform does not publish "
                f"(kid {kid!r} is not in its key set).",
            )
        if jwk.get("use", "sig") != "sig":
            raise LaunchRefused(
                "bad_platform_key",
                f"The platform publishes its key {kid!r} for encryption, not for signing.",
            )
        allowed = key_algorithms(jwk)
        if alg not in allowed:
            raise LaunchRefused(
                "wrong_alg",
                f"The launch used the signing algorithm {alg!r}, but the platform's key "
                f"{kid!r} is for {', '.join(sorted(allowed)) or 'an unknown algorithm'}.",
            )
        try:
            key = PyJWK(jwk, algorithm=alg)
        except (PyJWTError, ValueError, TypeError, AttributeError) as exc:
            # pyjwt raises InvalidKeyError (not a PyJWKError) for a key whose parts do not
            # make a key of its type; cryptography raises ValueError or TypeError.
            raise LaunchRefused(
                "bad_platform_key",
                f"The platform's key {kid!r} could not be read: its key set is malformed.",
            ) from exc
        if not isinstance(key.key, RSAPublicKey | EllipticCurvePublicKey):
            # A JWK with private parts (d, p, q...) builds a private key, which verifies
            # nothing; the platform has published its secret and should replace the key.
            raise LaunchRefused(
                "bad_platform_key",
                f"The platform's key set holds the private half of its key {kid!r}; it must "
                "publish public keys only (and should replace this one).",
            )
        if isinstance(key.key, RSAPublicKey) and key.key.key_size < MIN_RSA_BITS:
            raise LaunchRefused(
                "bad_platform_key",
                f"The platform's key {kid!r} is an RSA key of {key.key.key_size} bits; "
                f"at least {MIN_RSA_BITS} are required.",
            )
        return key

    def _await_refetch(self, url: str, slot: str, kid: str) -> dict[str, Any] | None:
        """Another worker holds the refetch ``slot``: wait until the key set it fetched holds
        ``kid``, or its fetch is over (``done``), or ``refetch_wait_seconds`` (its deadline)
        have passed; the shared key set then, if any."""
        deadline = time.monotonic() + self._refetch_wait_seconds
        while True:
            shared = self._store.get("jwks", _url_key(url))
            if shared is not None and _find(shared, kid) is not None:
                self._remember(url, shared)
                return shared
            fetching = self._store.get(slot, _url_key(url))
            if fetching is None or fetching.get("done") or time.monotonic() >= deadline:
                return shared
            time.sleep(0.05)

    def _cached(self, url: str) -> dict[str, Any] | None:
        with self._lock:
            hit = self._local.get(url)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        shared = self._store.get("jwks", _url_key(url))
        if shared is not None:
            self._remember(url, shared)
        return shared

    def _remember(self, url: str, jwks: dict[str, Any]) -> None:
        ttl = min(_LOCAL_SECONDS, float(self._cache_seconds))
        with self._lock:
            self._local[url] = (time.monotonic() + ttl, jwks)

    def _fetch(self, url: str, public_only: Callable[[], bool]) -> dict[str, Any]:
        self.fetch_count += 1
        http = self._public_http if public_only() else self._http
        try:
            response = http.get(url, headers={"Accept": "application/json"})
        except OutboundRefused as exc:
            # The reason (an address inside the network) is for the log, not the launch page.
            log_event(log, logging.WARNING, "jwks refused", code=exc.code, reason=exc.message)
            raise UpstreamError(
                "jwks_refused",
                "The platform's public keys could not be fetched: the tool does not call the "
                "address its key set URL names. An administrator can find why in the log.",
            ) from exc
        except requests.RequestException as exc:
            # One answer for every way a connection fails (refused, reset, TLS, timeout):
            # telling them apart would let anyone map which ports answer where.
            log_event(
                log,
                logging.WARNING,
                "jwks unreachable",
                code="jwks_unreachable",
                error=type(exc).__name__,
            )
            raise UpstreamError(
                "jwks_unreachable",
                "The platform's public keys could not be fetched; please try again shortly. "
                "An administrator can find why in the log.",
            ) from exc
        try:
            jwks = response_json(response) if response.status_code == 200 else None
        except ValueError:
            jwks = None
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            log_event(
                log,
                logging.WARNING,
                "jwks invalid",
                code="jwks_invalid",
                http_status=response.status_code,
            )
            raise UpstreamError(
                "jwks_invalid",
                "The platform's key set URL did not answer with a valid key set. An "
                "administrator can find why in the log.",
            )
        self._store.put("jwks", _url_key(url), jwks, self._cache_seconds)
        self._remember(url, jwks)
        return jwks


def key_algorithms(jwk: dict[str, Any]) -> frozenset[str]:
    """The signing algorithms a platform's JWK verifies: those of its type (any RSA algorithm
    for an RSA key, its curve's own for an EC key, none for anything else: never a symmetric
    one), narrowed to its ``alg`` when it names one (``alg`` is optional, RFC 7517 section
    4.4)."""
    kty = jwk.get("kty")
    family: frozenset[str] = frozenset()
    if kty == "RSA":
        family = _RSA_ALGORITHMS
    elif kty == "EC" and (curve_alg := _EC_ALGORITHM_BY_CURVE.get(str(jwk.get("crv")))):
        family = frozenset({curve_alg})
    alg = jwk.get("alg")
    if alg is None:
        return family
    return family & {alg} if isinstance(alg, str) else frozenset()


def _find(jwks: dict[str, Any], kid: str) -> dict[str, Any] | None:
    for key in jwks.get("keys", []):
        if isinstance(key, dict) and key.get("kid") == kid:
            return key
    return None


def _url_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()
