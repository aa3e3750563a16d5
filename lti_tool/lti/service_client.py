"""Calls to the platform's LTI services (NRPS, AGS) with a shared, expiring access token.

pylti1p3's ``ServiceConnector`` keeps tokens per object forever, sets no timeout, never
retries, and reads ``Link`` headers lower-cased with ASCII quotes only. This subclass keeps
its request/response contract (so pylti1p3's NRPS and AGS classes work on top of it) and adds:
- one token per registration and scope set, shared by every worker through the store, reused
  until shortly before it expires, fetched again once when the platform answers 401;
- every call through the outbound session (URL policy, total deadline), bounded retries with
  jittered backoff on 429/5xx/timeouts that honour ``Retry-After`` up to a cap of seconds;
  a failure says how many earlier tries went unanswered (``unanswered_before``: the platform
  may have acted on them, so a 409 to a retried score POST means it was stored);
- service URLs (they come from launch claims) only on the registration's own hosts;
- a bound on every paged read (``service_paging.py``: pylti1p3 follows next links for ever);
- the tolerant ``Link`` parser (Moodle's typographic quotes, ``&amp;``, URL case kept);
- JSON token answers read whatever their Content-Type (Moodle says text/html);
- PUT and DELETE, which AGS line-item updates need;
- ``retry=False`` for a call that must not be sent twice (creating a line item: a POST whose
  answer was lost may have made the column), with ``pause_before_retry`` for the caller that
  looks before it tries again.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pylti1p3.registration import Registration as PyltiRegistration
from pylti1p3.service_connector import ServiceConnector, TServiceConnectorResponse

from lti_tool.crypto import SecretBox, SecretUnreadable
from lti_tool.lti.service_errors import ServiceCallFailed, ServiceUrlRefused, refused
from lti_tool.lti.service_hosts import registration_hosts, service_url_refusal
from lti_tool.lti.service_paging import PagedReads
from lti_tool.lti.store import EphemeralStore
from lti_tool.outbound.answers import parse_json, response_json
from lti_tool.outbound.links import next_link
from lti_tool.outbound.policy import OutboundRefused
from lti_tool.outbound.retry import MAX_RETRY_AFTER_SECONDS, TRANSIENT_STATUSES, Backoff, RetryRule

TOKEN_MARGIN_SECONDS = 30
# Given the kid a connector signs with: the key that signs now, (kid, PEM), if it is another.
NewerKey = Callable[[str], tuple[str, str] | None]


def _rsa_key(private_pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(private_pem.encode(), None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the tool's signing key must be an RSA key")
    return key


class ToolServiceConnector(ServiceConnector):
    def __init__(
        self,
        registration: PyltiRegistration,
        *,
        registration_pk: int,
        kid: str,
        private_pem: str,
        store: EphemeralStore,
        secrets: SecretBox,
        http: requests.Session,
        backoff: Backoff | None = None,
        token_scopes: frozenset[str] | None = None,
        kind: str = "generic",
        extra_hosts: frozenset[str] = frozenset(),
        newer_key: NewerKey | None = None,
    ) -> None:
        super().__init__(registration, http)
        self._platform = registration  # our own reference: pylti1p3's is private
        self._registration_pk = registration_pk
        self._kid = kid
        # Parsed once (tens of milliseconds); a key replaced at once while a sync runs is
        # withdrawn from the JWKS, so each token request asks ``newer_key`` first.
        self._private_key = _rsa_key(private_pem)
        self._newer_key = newer_key
        # Ask for every scope the platform granted, whatever one call needs, so one token
        # serves a whole sync (lookups, column creation and scores alike).
        self._token_scopes = token_scopes
        self._memory: dict[str, tuple[str, float]] = {}
        self._store = store
        # The shared token is a bearer credential for the platform's gradebook and roster:
        # sealed in the store like the tool's other secrets.
        self._secrets = secrets
        self._http = http
        self._backoff = backoff or Backoff(retries=3, base=0.3, cap=5.0)
        self._retry = RetryRule(self._backoff.retries, max_wait_seconds=MAX_RETRY_AFTER_SECONDS)
        self._hosts = registration_hosts(registration, kind=kind, extra=extra_hosts)
        self._lock = threading.Lock()
        self._pages = PagedReads()
        self.token_requests = 0

    # -- tokens ---------------------------------------------------------------------------

    def _token_key(self, scopes: list[str]) -> str:
        joined = "|".join(sorted(scopes))
        return f"{self._registration_pk}:{hashlib.sha256(joined.encode()).hexdigest()[:32]}"

    def _scopes(self, scopes: Any) -> list[str]:
        wanted = {str(s) for s in scopes}
        if self._token_scopes and wanted <= self._token_scopes:
            wanted = set(self._token_scopes)
        return sorted(wanted)

    def get_access_token(self, scopes: Any) -> str:
        scopes = self._scopes(scopes)
        key = self._token_key(scopes)
        remembered = self._memory.get(key)
        if remembered is not None and remembered[1] > time.monotonic():
            return remembered[0]
        with self._lock:  # threads of one sync share the fetch
            cached = self._shared_token(key)
            if cached is None:
                token, lifetime = self._request_token(scopes)
                ttl = max(1, lifetime - TOKEN_MARGIN_SECONDS)
                sealed = {"sealed": self._secrets.seal(token), "ttl": ttl}
                self._store.put("svctoken", key, sealed, ttl)
                cached = (token, float(ttl))
            # Other workers' tokens come from the store; this connector keeps it briefly.
            self._memory[key] = (cached[0], time.monotonic() + min(60.0, cached[1]))
            return cached[0]

    def _shared_token(self, key: str) -> tuple[str, float] | None:
        """Another worker's token and its lifetime; None when there is none, or when it was
        sealed under another secret key (or before tokens were sealed): fetch a new one."""
        cached = self._store.get("svctoken", key)
        sealed = cached.get("sealed") if cached is not None else None
        if cached is None or not isinstance(sealed, str):
            return None
        try:
            return self._secrets.open(sealed), float(cached.get("ttl", 60))
        except SecretUnreadable:
            return None

    def forget_token(self, scopes: Any) -> None:
        key = self._token_key(self._scopes(scopes))
        self._memory.pop(key, None)
        self._store.delete("svctoken", key)

    def _request_token(self, scopes: list[str]) -> tuple[str, int]:
        registration = self._platform
        if self._newer_key is not None and (newer := self._newer_key(self._kid)) is not None:
            self._kid, self._private_key = newer[0], _rsa_key(newer[1])
        token_url = str(registration.get_auth_token_url())
        now = int(time.time())
        assertion = jwt.encode(
            {
                "iss": registration.get_client_id(),
                "sub": registration.get_client_id(),
                "aud": registration.get_auth_audience() or token_url,
                "iat": now - 5,
                "exp": now + 60,
                "jti": "lti-service-token-" + uuid.uuid4().hex,
            },
            self._private_key,
            algorithm="RS256",
            headers={"kid": self._kid},
        )
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": " ".join(scopes),
        }
        self.token_requests += 1
        response, _ = self._send(
            "POST", token_url, data=form, headers={"Accept": "application/json"}
        )
        try:
            body = parse_json(response.text)
            return str(body["access_token"]), int(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise ServiceCallFailed(
                "The platform's token endpoint answered without an access token.",
                http_status=response.status_code,
                body=response.text,
            ) from exc

    # -- calls ----------------------------------------------------------------------------

    def make_service_request(
        self,
        scopes: Any,
        url: str,
        is_post: bool = False,
        data: str | None = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        case_insensitive_headers: bool = False,
        method: str | None = None,
        *,
        retry: bool = True,
    ) -> TServiceConnectorResponse:
        """pylti1p3's call, with the additions above; ``retry=False``: one try (a 401 still
        gets a fresh token, the platform having acted on nothing)."""
        method = method or ("POST" if is_post else "GET")
        # The URL came from a launch claim: only the registration's own hosts get the token.
        refusal = service_url_refusal(url, self._hosts)
        if refusal is not None:
            raise ServiceUrlRefused(refusal)
        stopped = self._pages.refusal(method, url)
        if stopped is not None:
            raise ServiceUrlRefused(stopped, code="service_paging_stopped")
        unanswered = 0
        for attempt in (0, 1):
            token = self.get_access_token(scopes)
            headers = {"Authorization": "Bearer " + token, "Accept": accept}
            if data is not None:
                headers["Content-Type"] = content_type
            try:
                response, lost = self._send(
                    method, url, data=data, headers=headers, allow_401=True, retry=retry
                )
            except ServiceCallFailed as exc:
                exc.unanswered_before += unanswered
                raise
            unanswered += lost
            if response.status_code == 401 and attempt == 0:
                self.forget_token(scopes)  # expired or revoked early: one fresh token
                continue
            break
        if not response.ok:
            failure = refused(response)
            failure.unanswered_before = unanswered
            raise failure
        body: Any = None
        if response.content:
            try:
                body = response_json(response)
            except ValueError:
                body = response.text
        next_url = next_link(response.headers.get("Link"), response.url or url)
        return {
            "headers": response.headers if case_insensitive_headers else dict(response.headers),
            "body": body,
            "next_page_url": self._pages.answered(method, next_url),
        }

    def pause_before_retry(self, attempt: int, failure: ServiceCallFailed) -> bool:
        """For a caller retrying a ``retry=False`` call itself: wait as the connector would
        before try ``attempt + 1`` (``Retry-After`` honoured up to the cap); False when the
        connector would not try again (no retries left, or a failure not worth one)."""
        if not failure.retryable or attempt + 1 >= self._backoff.attempts:
            return False
        time.sleep(self._retry.wait(failure.retry_after, self._backoff.delay(attempt)))
        return True

    def _send(
        self, method: str, url: str, *, allow_401: bool = False, retry: bool = True, **kwargs: Any
    ) -> tuple[requests.Response, int]:
        """One call with bounded retries on 429, 5xx and network failures: the answer, and how
        many earlier tries met a 5xx or no answer (the platform may have acted on those; a
        429 says it did not)."""
        last: Exception | None = None
        unanswered = 0
        attempts = self._backoff.attempts if retry else 1
        for attempt in range(attempts):
            if attempt:
                unanswered += getattr(last, "http_status", None) != 429
            try:
                response = self._http.request(method, url, **kwargs)
            except OutboundRefused as exc:  # the policy refuses it again on every try
                raise ServiceUrlRefused(exc.message, code=exc.code) from exc
            except requests.RequestException as exc:
                last = exc
            else:
                retryable = (
                    response.status_code in TRANSIENT_STATUSES or response.status_code == 429
                )
                if not retryable:
                    if response.status_code == 401 and not allow_401 and not response.ok:
                        raise refused(response)
                    return response, unanswered
                last = refused(response)
                if attempt + 1 < attempts:
                    time.sleep(
                        self._retry.wait(
                            response.headers.get("Retry-After"), self._backoff.delay(attempt)
                        )
                    )
                continue
            if attempt + 1 < attempts:
                time.sleep(self._backoff.delay(attempt))
        if isinstance(last, ServiceCallFailed):
            last.unanswered_before = unanswered
            raise last
        failure = ServiceCallFailed(
            f"The platform did not answer ({type(last).__name__}).", http_status=None
        )
        failure.unanswered_before = unanswered
        raise failure from last
