"""The Canvas REST client: bearer token, timeouts, Link paging, and polite throttling.

Canvas charges each request against a per-token bucket and refunds most of it when the request
ends, so parallel calls are what get throttled (``doc/api/throttling.md``). This client:

- waits ``Retry-After`` (seconds or an HTTP date) on 429, or on the 403 "Rate Limit Exceeded"
  older instances send, else backs off with jitter; gives up after ``retries`` and raises
  ``SourceUnavailable`` — and at once if Canvas asks for a wait longer than ``max_retry_after``;
- slows every thread down for ``slowdown`` seconds when ``X-Rate-Limit-Remaining`` drops below
  ``low_remaining``;
- retries 5xx, timeouts and connection errors with jittered backoff, bounded;
- follows ``Link: <…>; rel="next"`` only to the same origin (the token must not leak), and at
  most ``max_pages`` pages.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests

from lti_tool.lms.canvas import parsing as parse
from lti_tool.lms.canvas.parsing import CanvasApiError
from lti_tool.lms.source import SourceConfigError, SourceError, SourceUnavailable
from lti_tool.lms.transport import transport_failure
from lti_tool.outbound.answers import response_json
from lti_tool.outbound.links import next_link
from lti_tool.outbound.retry import TRANSIENT_STATUSES, Backoff

Params = Mapping[str, str | int | Sequence[str]]


@dataclass(frozen=True)
class Page:
    """One decoded answer and the URL of the next page, if any."""

    body: Any
    next_url: str | None


class _Throttled(SourceUnavailable):
    def __init__(self, message: str, wait: float | None) -> None:
        super().__init__(message)
        self.wait = wait


class CanvasRestClient:
    """Reads the Canvas REST API with an access token; raises ``SourceError``s only."""

    def __init__(
        self,
        base_url: str,
        token: str,
        http_session: requests.Session,
        retries: int = 3,
        backoff: float = 0.5,
        *,
        timeout: float = 10.0,
        max_backoff: float = 8.0,
        per_page: int = 100,
        low_remaining: float = 50.0,
        slowdown: float = 1.0,
        max_retry_after: float = 60.0,
        max_pages: int = 50,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._http = http_session
        self.backoff = Backoff(retries, backoff, max_backoff)
        self.timeout = timeout
        self.per_page = per_page
        self.low_remaining = low_remaining
        self.slowdown = slowdown
        self.max_retry_after = max_retry_after
        self.max_pages = max_pages
        self._pause_until = 0.0
        self._lock = threading.Lock()
        self._known_courses: set[str] = set()
        self._requirements: dict[str, bool] = {}
        # Courses whose people the token's user may not list (``canvas/identity.py``).
        self.unreadable_rosters: set[str] = set()

    def get(self, path_or_url: str, params: Params | None = None) -> Page:
        """GET one resource (retrying transient failures and throttling), decoded."""
        url = urljoin(self.base_url + "/", path_or_url.lstrip("/"))
        what = "GET " + urlsplit(url).path
        failure: SourceUnavailable = SourceUnavailable(f"Canvas did not answer {what}")
        for attempt in range(self.backoff.attempts):
            try:
                return self._once(url, params, what)
            except _Throttled as exc:
                failure = exc
                if exc.wait is not None and exc.wait > self.max_retry_after:
                    break
                if attempt + 1 < self.backoff.attempts:
                    # Every thread waits: hammering a throttled token only prolongs it.
                    self._pause(exc.wait if exc.wait is not None else self.backoff.delay(attempt))
            except SourceUnavailable as exc:
                failure = exc
                if attempt + 1 < self.backoff.attempts:
                    time.sleep(self.backoff.delay(attempt))
        tries = "1 attempt" if attempt == 0 else f"{attempt + 1} attempts"
        raise SourceUnavailable(f"{failure.message} (gave up after {tries})")

    def get_all(self, path: str, params: Params | None = None) -> list[Any]:
        """Every item of a paged list, following ``Link: rel="next"``."""
        items: list[Any] = []
        page = self.get(path, {**(params or {}), "per_page": self.per_page})
        for _ in range(self.max_pages):
            if not isinstance(page.body, list):
                raise parse.CanvasFormatError(f"Canvas sent no list for {path}")
            items.extend(page.body)
            if page.next_url is None:
                return items
            if _origin(page.next_url) != _origin(self.base_url):
                raise SourceError(f"Canvas's next page for {path} is on another host; not followed")
            page = self.get(page.next_url)
        raise SourceError(f"Canvas's list at {path} has more than {self.max_pages} pages")

    def course_progress(self, course_id: str, user_id: str) -> parse.CourseProgress:
        """A student's module-requirement progress in a course."""
        path = f"/api/v1/courses/{_segment(course_id)}/users/{_segment(user_id)}/progress"
        return parse.parse_progress(self.get(path).body)

    def member_id(self, course_id: str, user_ref: str) -> str | None:
        """Canvas's id of the member of course ``course_id`` that ``user_ref`` names (such
        as ``lti_1_3_id:<LTI sub>``), or None when Canvas lists no such member there (404)."""
        path = f"/api/v1/courses/{_segment(course_id)}/users/{_segment(user_ref)}"
        try:
            body = self.get(path).body
        except CanvasApiError as exc:
            if exc.status == 404:
                return None
            raise
        found = body.get("id") if isinstance(body, Mapping) else None
        if isinstance(found, bool) or not str(found).isdigit():
            raise parse.CanvasFormatError(f"Canvas sent no user id for {path}")
        return str(found)

    def modules(self, course_id: str, student_id: str) -> list[parse.CanvasModule]:
        """A course's modules with the student's ``state`` and ``completed_at``."""
        path = f"/api/v1/courses/{_segment(course_id)}/modules"
        params = {"student_id": student_id, "include[]": ["items"]}
        return parse.parse_modules(self.get_all(path, params))

    def course_has_requirements(self, course_id: str) -> bool | None:
        """Whether any module item of the course carries a completion requirement (the
        course's own view, no student): None when Canvas left some module's items out. An
        answer is remembered for this client's life (one class refresh asks once a course)."""
        if course_id in self._requirements:
            return self._requirements[course_id]
        path = f"/api/v1/courses/{_segment(course_id)}/modules"
        modules = parse.parse_modules(self.get_all(path, {"include[]": ["items"]}))
        if any(module.has_requirements for module in modules):
            answer: bool | None = True
        elif any(module.has_requirements is None for module in modules):
            answer = None
        else:
            answer = False
        if answer is not None:
            with self._lock:
                self._requirements[course_id] = answer
        return answer

    def course_exists(self, course_id: str) -> bool:
        """Whether the token can see course ``course_id`` (remembered once true)."""
        if course_id in self._known_courses:
            return True
        try:
            self.get(f"/api/v1/courses/{_segment(course_id)}")
        except CanvasApiError as exc:
            if exc.status == 404:
                return False
            raise
        self._known_courses.add(course_id)
        return True

    def _once(self, url: str, params: Params | None, what: str) -> Page:
        self._wait_for_pause()
        try:
            response = self._http.get(
                url,
                params=params,
                timeout=self.timeout,
                allow_redirects=False,
                headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"},
            )
        except requests.RequestException as exc:
            raise transport_failure(
                exc,
                lms="Canvas",
                what=what,
                url=self.base_url,
                timeout=self.timeout,
                url_label="Canvas URL",
                fix="set it to the institution's Canvas address, e.g. https://school.instructure.com",
            ) from exc
        with response:
            self._note_remaining(response.headers.get("X-Rate-Limit-Remaining"))
            status = response.status_code
            if status == 429 or (status == 403 and "rate limit exceeded" in response.text.lower()):
                wait = _retry_after(response.headers.get("Retry-After"))
                raise _Throttled(f"Canvas is throttling this token ({what})", wait)
            if status in TRANSIENT_STATUSES:
                raise SourceUnavailable(f"Canvas answered HTTP {status} to {what}")
            try:
                body = response_json(response)
            except ValueError:
                body = response.text
            if status == 200:
                return Page(body, next_link(response.headers.get("Link"), url))
            messages = parse.error_messages(body)
        if status == 401 and any("invalid access token" in m.lower() for m in messages):
            raise SourceConfigError(
                "Canvas refused the API access token (Invalid access token.): it was deleted, "
                "expired or mistyped. Generate a new one (Account > Settings > New access token, "
                "or a developer key) and enter it in the tool's Canvas settings."
            )
        if 300 <= status < 400:
            raise SourceConfigError(
                f"the Canvas URL {self.base_url} redirects to "
                f"{response.headers.get('Location')!r}: enter the final address"
            )
        raise CanvasApiError(status, messages, what)

    def _note_remaining(self, header: str | None) -> None:
        try:
            remaining = float(header) if header is not None else None
        except ValueError:
            return
        if remaining is not None and remaining < self.low_remaining:
            self._pause(self.slowdown)

    def _pause(self, seconds: float) -> None:
        with self._lock:
            self._pause_until = max(self._pause_until, time.monotonic() + seconds)
        self._wait_for_pause()

    def _wait_for_pause(self) -> None:
        while (left := self._pause_until - time.monotonic()) > 0:
            time.sleep(left)


def _segment(value: str) -> str:
    # Canvas ids may be "sis_course_id:ABC 1": keep the colon, escape the rest.
    return quote(str(value), safe=":")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
