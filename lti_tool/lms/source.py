"""What a completion source is: the LMS-side user, the course mapping, the result and the errors.

A source answers for one student at a time. It may succeed for some CPD courses and fail for
others, so :class:`FetchResult` carries both. Two kinds of failure are worth telling apart:
:class:`SourceUnavailable` (try again later: the LMS is down, slow or throttling) and
:class:`SourceConfigError` (an administrator must change something; the message says what).
A ``SourceConfigError`` without a course code concerns the whole source (a bad token) and is
raised from ``fetch``; errors about one course are returned in ``FetchResult.errors``. A
:class:`CourseUntrackable` error comes with an ``untrackable`` completion for its course.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from lti_tool.rules.records import Completion, CompletionStatus


@dataclass(frozen=True)
class LmsUser:
    """The student as the LMS's API knows them.

    Moodle: the LTI ``sub`` is the Moodle user id. Canvas: ``lti_1_3_id:<sub>``, which Canvas
    itself turns into its user id (``lms/canvas/identity.py``); ``course`` is the course the
    student was seen in, as the API names it (Canvas: ``lti_context_id:<LTI context id>``).
    """

    user_id: str
    course: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "user_id", str(self.user_id).strip())


@dataclass(frozen=True)
class CourseMapping:
    """Where the LMS records a CPD course: a whole LMS course, or one activity/module in it.

    Ids are kept as strings (Canvas also accepts ``sis_course_id:…`` forms); each client turns
    them into what its API wants.
    """

    code: str
    course_id: str
    activity_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "course_id", str(self.course_id).strip())
        if self.activity_id is not None:
            object.__setattr__(self, "activity_id", str(self.activity_id).strip())


class MappingMode(StrEnum):
    """How CPD courses map to the LMS: one LMS course each, or one activity/module each."""

    COURSE = "course"
    ACTIVITY = "activity"


class SourceError(Exception):
    """A completion source could not answer; for one CPD course when ``course_code`` is set."""

    def __init__(self, message: str, *, course_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.course_code = course_code

    def for_course(self, code: str) -> SourceError:
        """The same failure, attributed to CPD course ``code`` (keeps the error's kind)."""
        for kind in (SourceUnavailable, CourseUntrackable, SourceConfigError):
            if isinstance(self, kind):
                return kind(self.message, course_code=code)
        return SourceError(self.message, course_code=code)


class SourceUnavailable(SourceError):
    """Transient: HTTP 5xx, timeouts, connection errors, throttling, LMS database errors —
    still failing after the client's bounded retries."""


class SourceConfigError(SourceError):
    """An administrator must fix something (token, permissions, service functions, mapping).

    The message is written for them: it names the setting, course or capability to change.
    """


class CourseUntrackable(SourceConfigError):
    """The LMS answered for this course, and its answer is that it cannot tell: the course
    (or activity) is set up without completion tracking, e.g. a Moodle course without
    completion criteria. The source also returns an ``untrackable`` completion for the course,
    so the student sees "can't be tracked yet" rather than "not started"; the message tells
    staff what a teacher must set up in the LMS.
    """


@dataclass
class FetchResult:
    """Completions found, and the per-course errors that kept others from being found."""

    completions: list[Completion] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)


class CompletionSource(Protocol):
    """Anything that can tell what a student has completed in the LMS."""

    def fetch(self, user: LmsUser, mapping: Sequence[CourseMapping]) -> FetchResult:
        """Completions for ``user`` over the mapped courses.

        Raises ``SourceConfigError`` when the whole source is misconfigured and
        ``SourceUnavailable`` when no course could be read for a transient reason.
        """
        ...


@dataclass(frozen=True)
class FetchUnit:
    """One independent piece of a fetch (usually one HTTP call) and the codes it answers for."""

    codes: tuple[str, ...]
    run: Callable[[], FetchResult]


def check_mode(mode: MappingMode, mapping: Sequence[CourseMapping]) -> list[SourceError]:
    """Config errors for mappings that do not fit ``mode`` (activity mode needs activity ids)."""
    errors: list[SourceError] = []
    for item in mapping:
        if mode is MappingMode.ACTIVITY and not item.activity_id:
            errors.append(
                SourceConfigError(
                    f"{item.code} is mapped to course {item.course_id} without an activity id, "
                    "but this source maps CPD courses to activities: add the activity/module id "
                    "or switch the source to course mode.",
                    course_code=item.code,
                )
            )
        elif mode is MappingMode.COURSE and item.activity_id:
            errors.append(
                SourceConfigError(
                    f"{item.code} is mapped to activity {item.activity_id} of course "
                    f"{item.course_id}, but this source maps each CPD course to a whole LMS "
                    "course: remove the activity id or switch the source to activity mode.",
                    course_code=item.code,
                )
            )
    return errors


def with_untrackable(errors: Sequence[SourceError], source_name: str) -> FetchResult:
    """``errors``, with an ``untrackable`` completion for each course the LMS said it cannot
    track (``CourseUntrackable``): the student then reads "can't be tracked yet", not "not
    started"."""
    untrackable = [
        Completion(e.course_code, CompletionStatus.UNTRACKABLE, source=source_name)
        for e in errors
        if isinstance(e, CourseUntrackable) and e.course_code
    ]
    return FetchResult(untrackable, list(errors))


def gather(
    units: Sequence[FetchUnit],
    max_workers: int,
    order: Sequence[str],
    initial_errors: Sequence[SourceError] = (),
) -> FetchResult:
    """Run ``units`` at most ``max_workers`` at a time and merge what they return.

    A source-wide ``SourceConfigError`` (no course code) stops the fetch and is raised. Any
    other ``SourceError`` from a unit becomes one error per code of that unit. When nothing
    was found and every error is transient, ``SourceUnavailable`` is raised: there is no
    partial answer worth showing. Results come back in the order of the codes in ``order``.
    """
    result = FetchResult(errors=list(initial_errors))
    waiting = list(reversed(units))
    running: dict[Future[FetchResult], FetchUnit] = {}
    # The units run on threads shared by every fetch (a pool per fetch started threads for
    # each student of a class refresh), at most ``max_workers`` of this fetch at a time. On
    # a source-wide error the calls still running finish on their own (each has a timeout);
    # the ones not started are dropped.
    while waiting or running:
        while waiting and len(running) < max(1, max_workers):
            unit = waiting.pop()
            running[_unit_threads().submit(unit.run)] = unit
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            _merge(result, running.pop(future), future)
    position = {code: index for index, code in enumerate(order)}
    result.completions.sort(key=lambda c: position.get(c.course_code, len(position)))
    result.errors.sort(key=lambda e: position.get(e.course_code or "", len(position)))
    if (
        not result.completions
        and result.errors
        and all(isinstance(error, SourceUnavailable) for error in result.errors)
    ):
        raise SourceUnavailable(result.errors[0].message)
    return result


# At most this many LMS calls at once in a process, across all fetches (a class refresh makes
# 16 students x 4 calls at a time by default).
UNIT_THREADS = 64
_units: tuple[int, ThreadPoolExecutor] | None = None
_units_lock = threading.Lock()


def _unit_threads() -> ThreadPoolExecutor:
    """The process's threads for fetch units, made on first use (and again in a forked
    child: threads do not survive a fork)."""
    global _units
    with _units_lock:
        if _units is None or _units[0] != os.getpid():
            _units = (os.getpid(), ThreadPoolExecutor(UNIT_THREADS, thread_name_prefix="lms-call"))
        return _units[1]


def _merge(result: FetchResult, unit: FetchUnit, future: Future[FetchResult]) -> None:
    try:
        part = future.result()
    except SourceConfigError as exc:
        if exc.course_code is None:
            raise
        result.errors.append(exc)
    except SourceError as exc:
        if exc.course_code is not None:
            result.errors.append(exc)
        else:
            result.errors.extend(exc.for_course(code) for code in unit.codes)
    else:
        result.completions.extend(part.completions)
        result.errors.extend(part.errors)
