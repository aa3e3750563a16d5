"""Reading only from the platform's own Moodle site, without an extra call on every read.

``OwnSiteSource`` wraps a ``MoodleCompletionSource``: before its first read it makes sure the
web service belongs to the platform's own site (``site_identity``), once per source object (a
class refresh builds one for the whole class, its students' threads waiting for the one check)
and through ``SiteChecks``, the process's memory of what was found: a web service found to be
the platform's own is believed for ``VERIFIED_SECONDS``, one found to be another site's is
refused for ``REFUSED_SECONDS`` without asking again, and a check that could not be made
(Moodle did not answer) is not remembered; one web service is checked by one thread at a
time, the others waiting for its answer. A source of another site reads nothing: its
``fetch`` raises ``ForeignMoodleSite`` (a ``SourceConfigError``) with words for staff.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence

from lti_tool.lms.moodle.site_identity import ForeignMoodleSite
from lti_tool.lms.source import (
    CompletionSource,
    CourseMapping,
    FetchResult,
    LmsUser,
    SourceConfigError,
    SourceError,
    SourceUnavailable,
)

VERIFIED_SECONDS = 600.0
REFUSED_SECONDS = 60.0


def check_key(endpoint_url: str, token: str, issuer: str) -> str:
    """What a check answers for: the web service, its token and the platform (hashed: the
    token is never kept in the clear)."""
    text = "\0".join((endpoint_url.strip().rstrip("/"), token, issuer))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class SiteChecks:
    """The process's memory of which Moodle web services are the platform's own site."""

    def __init__(
        self,
        verified_seconds: float = VERIFIED_SECONDS,
        refused_seconds: float = REFUSED_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._verified_seconds = verified_seconds
        self._refused_seconds = refused_seconds
        self._clock = clock
        # key → (until, the refusal found, or None when the site is the platform's)
        self._entries: dict[str, tuple[float, ForeignMoodleSite | None]] = {}
        self._key_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def confirm(self, key: str, check: Callable[[], object]) -> None:
        """Return when the web service of ``key`` is the platform's own site, asking
        ``check`` (which raises ``ForeignMoodleSite`` for another site) unless a recent answer
        is remembered; raise ``ForeignMoodleSite`` when it is another site's, or the
        ``SourceError`` that kept ``check`` from telling. One check of a key at a time: reads
        that need it meanwhile wait for its answer."""
        if self._remembered(key):
            return
        with self._lock:
            # One per web service the process has read (a handful): never pruned.
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if self._remembered(key):
                return
            try:
                check()
            except ForeignMoodleSite as exc:
                self._remember(key, self._refused_seconds, exc)
                raise
            self._remember(key, self._verified_seconds, None)

    def _remembered(self, key: str) -> bool:
        """True when the site was found to be the platform's lately; raises the refusal when
        it was found to be another's; False when nothing recent is known."""
        with self._lock:
            hit = self._entries.get(key)
            now = self._clock()
        if hit is None or hit[0] <= now:
            return False
        if hit[1] is not None:
            raise _again(hit[1])
        return True

    def _remember(self, key: str, seconds: float, refusal: ForeignMoodleSite | None) -> None:
        with self._lock:
            now = self._clock()
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            self._entries[key] = (now + seconds, refusal)

    def clear(self) -> None:
        """Forget every answer (a completion source was changed)."""
        with self._lock:
            self._entries.clear()


def _again(refusal: ForeignMoodleSite) -> ForeignMoodleSite:
    return ForeignMoodleSite(refusal.message, site=refusal.site, platform=refusal.platform)


class OwnSiteSource:
    """A Moodle ``CompletionSource`` that reads only once ``confirm`` has said its web service
    is the platform's own site; asked once per object, however many threads read through it."""

    def __init__(self, source: CompletionSource, confirm: Callable[[], None]) -> None:
        self.source = source
        self._confirm = confirm
        self._lock = threading.Lock()
        self._checked = False
        self._refusal: Callable[[], SourceError] | None = None

    def fetch(self, user: LmsUser, mapping: Sequence[CourseMapping]) -> FetchResult:
        self._confirmed()
        return self.source.fetch(user, mapping)

    def _confirmed(self) -> None:
        with self._lock:
            if not self._checked:
                self._refusal = _refusal_of(self._confirm)
                self._checked = True
            refusal = self._refusal
        if refusal is not None:
            raise refusal()


def _refusal_of(confirm: Callable[[], None]) -> Callable[[], SourceError] | None:
    """``None`` when ``confirm`` passes; else how to raise, for each read, why it did not."""
    try:
        confirm()
    except ForeignMoodleSite as exc:
        foreign = exc  # ``exc`` goes at the end of the clause
        return lambda: _again(foreign)
    except SourceUnavailable as exc:
        unavailable = exc.message
        return lambda: SourceUnavailable(unavailable)
    except SourceConfigError as exc:
        config = exc.message
        return lambda: SourceConfigError(config)
    except SourceError as exc:  # a Moodle error or an answer of another shape
        text = f"Moodle did not say which site its web service belongs to: {exc.message}"
        return lambda: SourceConfigError(text)
    return None
