"""How far the service client follows a platform's ``Link: rel="next"`` in one paged read.

pylti1p3 reads NRPS memberships, Course Groups and AGS line items with ``while next_page_url``
and no limit, so a platform whose next link names a page already sent, or never ends, would
keep the reading thread (a tutor's first staff launch reads the roster) for ever. The
connector sees one page at a time; a paged read is the run of GETs, on one thread, each for
the page the one before named next (pylti1p3 reads a list page after page on the calling
thread; the class's tutor groups read several lists at once, one per thread). Such a read
stops at a page already fetched in it, past ``MAX_PAGES_PER_READ`` pages, or once
``PAGED_READ_SECONDS`` have passed since its first page.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Canvas sends NRPS members 10 a page unless asked for more (the tool does not ask: pylti1p3
# reads the URL the launch gives), Moodle every member in one page: a class of 10,000 fits.
# AGS line items come 10 a page on Canvas: 10,000 gradebook columns fit.
MAX_PAGES_PER_READ = 1000
# A page is one outbound call (its own deadline, with retries); the read as a whole stops
# asking for more after this, so an endless list of slow pages is cut too.
PAGED_READ_SECONDS = 300.0


@dataclass
class _Read:
    started: float
    fetched: set[str] = field(default_factory=set)
    next_url: str | None = None


class PagedReads:
    """The paged read each thread is in, for one connector."""

    def __init__(
        self,
        *,
        max_pages: int = MAX_PAGES_PER_READ,
        seconds: float = PAGED_READ_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_pages = max_pages
        self.seconds = seconds
        self._clock = clock
        self._local = threading.local()

    def refusal(self, method: str, url: str) -> str | None:
        """Before a call: why the paged read a GET of ``url`` continues stops here, or None
        (the page is counted, or starts a new read when it is not the page the last one
        named next; other methods read no pages)."""
        if method != "GET":
            return None
        read: _Read | None = getattr(self._local, "read", None)
        if read is None or read.next_url != url:
            read = _Read(started=self._clock())
        self._local.read = None  # a page that fails ends its read
        if url in read.fetched:
            return (
                "The platform named a page of its list that it had already sent as the next "
                "one; the tool stopped reading the list there."
            )
        if len(read.fetched) >= self.max_pages:
            return (
                f"The platform's list went on past {self.max_pages} pages; the tool stopped "
                "reading it there."
            )
        if self._clock() - read.started > self.seconds:
            return (
                f"The platform's list took longer than {self.seconds / 60:g} minutes to read; "
                "the tool stopped reading it there."
            )
        read.fetched.add(url)
        read.next_url = None
        self._local.read = read
        return None

    def answered(self, method: str, next_url: str | None) -> str | None:
        """The page a GET just fetched named ``next_url`` as the next one (None: the last);
        ``next_url``, for the caller to ask for next."""
        if method != "GET":
            return next_url
        read: _Read | None = getattr(self._local, "read", None)
        if read is not None:
            read.next_url = next_url
        if next_url is None:
            self._local.read = None
        return next_url
