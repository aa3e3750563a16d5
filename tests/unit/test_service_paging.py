"""The bounds of one paged read (``lti/service_paging.py``): the pages a thread reads, each
the one the page before named next."""

from __future__ import annotations

import threading

from lti_tool.lti.service_paging import PagedReads

LIST = "https://lms.example/list"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _read(pages: PagedReads, first: str, count: int) -> str | None:
    """Fetch ``count`` pages from ``first``, each naming the next; the refusal, if any."""
    for n in range(count):
        url = first if n == 0 else f"{LIST}?page={n}"
        refusal = pages.refusal("GET", url)
        if refusal is not None:
            return refusal
        pages.answered("GET", f"{LIST}?page={n + 1}")
    return None


def test_a_page_named_twice_in_one_read_stops_it() -> None:
    pages = PagedReads()
    assert pages.refusal("GET", LIST) is None
    pages.answered("GET", f"{LIST}?page=2")
    assert pages.refusal("GET", f"{LIST}?page=2") is None
    pages.answered("GET", LIST)  # back to the first page
    refusal = pages.refusal("GET", LIST)
    assert refusal is not None and "already sent" in refusal


def test_the_same_list_read_again_is_a_new_read() -> None:
    """A read that ended (no next link), or that its caller left early, does not count
    against the next read of the same list."""
    pages = PagedReads()
    for _ in range(3):
        assert pages.refusal("GET", LIST) is None
        pages.answered("GET", None)
    assert _read(pages, LIST, 3) is None  # left after three pages: page 3 was named next
    assert _read(pages, LIST, 3) is None


def test_a_read_stops_after_its_pages_and_its_time() -> None:
    clock = Clock()
    pages = PagedReads(max_pages=5, seconds=120, clock=clock)
    assert _read(pages, LIST, 5) is None
    refusal = _read(pages, LIST, 6)
    assert refusal is not None and "past 5 pages" in refusal

    assert pages.refusal("GET", LIST) is None
    pages.answered("GET", f"{LIST}?page=1")
    clock.now = 121
    refusal = pages.refusal("GET", f"{LIST}?page=1")
    assert refusal is not None and "longer than 2 minutes" in refusal


def test_a_page_that_failed_ends_its_read() -> None:
    """No answer recorded (the call raised): asking for the page again starts afresh."""
    pages = PagedReads()
    assert pages.refusal("GET", LIST) is None
    pages.answered("GET", LIST)
    assert pages.refusal("GET", LIST) is not None
    assert pages.refusal("GET", LIST) is None


def test_other_methods_and_other_threads_are_not_counted() -> None:
    pages = PagedReads(max_pages=2)
    assert pages.refusal("GET", LIST) is None
    pages.answered("GET", f"{LIST}?page=1")
    assert pages.refusal("POST", f"{LIST}?page=1") is None
    pages.answered("POST", None)
    # Another thread's reads of the same list (tutor groups read one list per student).
    elsewhere: list[str | None] = []
    other = threading.Thread(target=lambda: elsewhere.append(_read(pages, LIST, 2)))
    other.start()
    other.join()
    assert elsewhere == [None]
    assert pages.refusal("GET", f"{LIST}?page=1") is None  # this thread's read goes on
    pages.answered("GET", f"{LIST}?page=2")
    assert pages.refusal("GET", f"{LIST}?page=2") is not None  # its third page
