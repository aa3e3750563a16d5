"""Synthetic Moodle data for ``scripts/bench_completion.py``: the demo site plus a big class.

Student ``index`` (0-based) has finished the first ``index % 14`` CPD courses (0 to all 13)
and, when ``index`` is even and a course is left, has started the next one: the reflective log
ticked in its Moodle course, and a dated but incomplete record on its programme activity. So
both mappings should store the same statuses, which the benchmark checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from lti_tool.sandbox.demo_data import (
    COMPLETE,
    COMPLETE_PASS,
    CPD_COURSES,
    INCOMPLETE,
    PROGRAMME_COURSE_ID,
    LmsData,
    User,
    course_id,
    demo_lms,
    log_cmid,
    programme_cmid,
    quiz_cmid,
    stamp,
)

FIRST_USER_ID = 10001
CODES = tuple(CPD_COURSES)
_DAY = 86400


def user_ids(count: int) -> list[int]:
    """The Moodle user ids (= LTI subs) of the first ``count`` synthetic students."""
    return list(range(FIRST_USER_ID, FIRST_USER_ID + count))


def finished(index: int) -> int:
    return index % (len(CODES) + 1)


def started_next(index: int) -> bool:
    return index % 2 == 0 and finished(index) < len(CODES)


@dataclass(frozen=True)
class Tally:
    completed: int
    in_progress: int
    not_started: int

    def __str__(self) -> str:
        return (
            f"{self.completed} completed, {self.in_progress} in progress, "
            f"{self.not_started} not started"
        )


def expected_tally(count: int) -> Tally:
    """The statuses a correct refresh of the first ``count`` students stores."""
    completed = sum(finished(i) for i in range(count))
    in_progress = sum(1 for i in range(count) if started_next(i))
    return Tally(completed, in_progress, count * len(CODES) - completed - in_progress)


def class_lms(count: int) -> LmsData:
    """The demo site with ``count`` more students enrolled in the programme course and in
    every CPD course, with the progress described in the module docstring."""
    data = demo_lms()
    base = stamp("2026-01-05", "09:00")
    everyone = user_ids(count)
    for index, user_id in enumerate(everyone):
        data.users[user_id] = User(f"learner{index + 1:04d}", "Learner", f"{index + 1:04d}")
        when = base + (index % 50) * _DAY
        for position, code in enumerate(CODES[: finished(index)]):
            done = when + position * 7 * _DAY
            data.states[(user_id, log_cmid(code))] = (COMPLETE, done - _DAY)
            data.states[(user_id, quiz_cmid(code))] = (COMPLETE_PASS, done)
            data.states[(user_id, programme_cmid(code))] = (COMPLETE, done)
        if started_next(index):
            code = CODES[finished(index)]
            begun = when + finished(index) * 7 * _DAY
            data.states[(user_id, log_cmid(code))] = (COMPLETE, begun)
            data.states[(user_id, programme_cmid(code))] = (INCOMPLETE, begun)
    data.courses[PROGRAMME_COURSE_ID].students.update(everyone)
    for code in CODES:
        data.courses[course_id(code)].students.update(everyone)
    return data
