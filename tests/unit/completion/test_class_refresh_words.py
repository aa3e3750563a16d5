"""Pure parts of the class refresh: why a student could not be read (plain words), when the
class copy is stale."""

from __future__ import annotations

import datetime as dt
import time
from types import SimpleNamespace
from typing import Any

import pytest

from lti_tool.completion.class_progress import is_stale
from lti_tool.completion.class_refresh import plain_reason
from lti_tool.completion.refresh import RefreshOutcome


@pytest.mark.parametrize(
    ("kind", "outcome", "words"),
    [
        (
            "moodle",
            RefreshOutcome("unavailable", 0, ["HTTP 503"]),
            "the LMS did not answer (HTTP 503)",
        ),
        ("moodle", RefreshOutcome("unavailable", 0, []), "the LMS did not answer"),
        (
            "moodle",
            RefreshOutcome("partial", 3, ["GB081: no such course"]),
            "some CPD courses could not be read (GB081: no such course)",
        ),
        (
            "moodle",
            RefreshOutcome("config", 0, ["invalid token"]),
            "the LMS connection is not set up fully (invalid token)",
        ),
    ],
)
def test_why_a_student_could_not_be_read(kind: str, outcome: RefreshOutcome, words: str) -> None:
    assert plain_reason(kind, outcome) == words


def _services(max_age_seconds: int, locked: bool = True) -> Any:
    settings = SimpleNamespace(completion_max_age=dt.timedelta(seconds=max_age_seconds))
    store = SimpleNamespace(get=lambda kind, key: {"at": time.time()} if locked else None)
    return SimpleNamespace(settings=settings, store=store)


def test_a_class_copy_is_stale_when_never_read_or_read_too_long_ago() -> None:
    services = _services(900)
    assert is_stale(services, None, 7)
    assert not is_stale(services, {"status": "running", "finished_at": None}, 7)
    assert is_stale(services, {"status": "done", "finished_at": None}, 7)  # it broke: try again
    assert not is_stale(services, {"status": "done", "finished_at": time.time() - 60}, 7)
    assert is_stale(services, {"status": "done", "finished_at": time.time() - 901}, 7)


def test_a_refresh_whose_worker_died_is_stale() -> None:
    """A "running" record without its lock: the job never reached its ``finally``."""
    running = {"status": "running", "finished_at": None}
    assert is_stale(_services(900, locked=False), running, 7)
