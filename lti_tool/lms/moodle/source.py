"""Moodle as a completion source, over the web-service REST protocol.

``MoodleWsClient`` (in ``client``, re-exported here) POSTs form fields (``wstoken``,
``wsfunction``, ``moodlewsrestformat=json`` and the parameters, arrays as ``name[0]=…``) to
``…/webservice/rest/server.php``. Calls for one student run concurrently, at most
``max_workers`` (4) at a time.

``MoodleCompletionSource`` turns answers into ``Completion``s, in one of two modes:

- **course** (one Moodle course per CPD course): one
  ``core_completion_get_course_completion_status`` call per mapped course. Moodle's
  ``completed`` flag → completed, dated by the latest criterion ``timecompleted`` (Moodle has no
  course-level date). **In progress** = at least one completion criterion met but not the
  course. None met → not started. ``usernotenroled``/``notenroled`` → not started.
  ``nocriteriaset`` → **untrackable** (Moodle cannot tell), with a ``CourseUntrackable``
  error telling staff to set the course's completion criteria.
- **activity** (each CPD course is an activity of one Moodle course; ``activity_id`` = cmid):
  one ``core_completion_get_activities_completion_status`` call per Moodle course. States 1
  and 2 → completed on ``timecompleted``; 3 (complete-fail) → **in progress** (attempted, not
  passed); 0 → **in progress** only when Moodle holds evidence of work (a dated completion
  record, e.g. viewed or unticked, or one of the activity's rules met), else not started. A
  user Moodle does not track there (not enrolled: ``istrackeduser`` false) → not started. A
  mapped activity with completion tracking off is absent from Moodle's statuses (as a wrong
  cmid is): ``core_course_get_contents`` tells them apart, and tracking off → **untrackable**
  with a ``CourseUntrackable`` error; a cmid not in the course stays a mapping error.

``started_at`` is the earliest dated evidence (first criterion met, or the activity's date): the
student began no later than that. Dates are Unix seconds turned into dates in ``tz``
(Europe/London by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from zoneinfo import ZoneInfo

from lti_tool.lms.moodle.activity_completion import activity_record
from lti_tool.lms.moodle.client import COMPLETION_FUNCTIONS, MoodleWsClient, encode_params
from lti_tool.lms.moodle.course_completion import course_record
from lti_tool.lms.moodle.errors import course_problem, tracking_off
from lti_tool.lms.moodle.parsing import MoodleWsError
from lti_tool.lms.source import (
    CourseMapping,
    FetchResult,
    FetchUnit,
    LmsUser,
    MappingMode,
    SourceConfigError,
    SourceError,
    check_mode,
    gather,
    with_untrackable,
)
from lti_tool.rules.records import Completion, CompletionStatus

__all__ = [
    "COMPLETION_FUNCTIONS",
    "NOT_ENROLLED",
    "MoodleCompletionSource",
    "MoodleWsClient",
    "encode_params",
]

NOT_ENROLLED = frozenset({"usernotenroled", "notenroled"})


class MoodleCompletionSource:
    """A ``CompletionSource`` reading Moodle completion (see the module docstring for modes)."""

    def __init__(
        self,
        client: MoodleWsClient,
        mode: MappingMode | str = MappingMode.COURSE,
        *,
        tz: tzinfo | None = None,
        max_workers: int = 4,
        source_name: str = "moodle",
    ) -> None:
        self.client = client
        self.mode = MappingMode(mode)
        self.tz = tz or ZoneInfo("Europe/London")
        self.max_workers = max_workers
        self.source_name = source_name

    def fetch(self, user: LmsUser, mapping: Sequence[CourseMapping]) -> FetchResult:
        """Completions for ``user`` (the LTI ``sub`` is the Moodle user id)."""
        user_id = _number(user.user_id)
        if user_id is None:
            raise SourceConfigError(
                f"Moodle user ids are numbers, got {user.user_id!r}: is this source's Moodle "
                "the platform the student launched from?"
            )
        errors = check_mode(self.mode, mapping)
        refused = {error.course_code for error in errors}
        usable = [item for item in mapping if item.code not in refused]
        units: list[FetchUnit] = []
        if self.mode is MappingMode.COURSE:
            units = [self._course_unit(user_id, item) for item in usable]
        else:
            by_course: dict[str, list[CourseMapping]] = {}
            for item in usable:
                by_course.setdefault(item.course_id, []).append(item)
            units = [self._activity_unit(user_id, items) for items in by_course.values()]
        order = [item.code for item in mapping]
        return gather(units, self.max_workers, order, initial_errors=errors)

    def _course_unit(self, user_id: int, item: CourseMapping) -> FetchUnit:
        def run() -> FetchResult:
            course_id = _number(item.course_id)
            if course_id is None:
                return FetchResult(errors=[_bad_course_id(item)])
            try:
                status = self.client.get_course_completion_status(course_id, user_id)
            except MoodleWsError as exc:
                if exc.errorcode in NOT_ENROLLED:
                    return FetchResult([self._not_enrolled(item.code)])
                return self._problems(course_problem(exc, course_id, [item.code], user_id))
            return FetchResult([course_record(item.code, status, self.tz, self.source_name)])

        return FetchUnit((item.code,), run)

    def _activity_unit(self, user_id: int, items: list[CourseMapping]) -> FetchUnit:
        codes = [item.code for item in items]

        def run() -> FetchResult:
            course_id = _number(items[0].course_id)
            if course_id is None:
                return FetchResult(errors=[_bad_course_id(item) for item in items])
            try:
                statuses = self.client.get_activities_completion_status(course_id, user_id)
            except MoodleWsError as exc:
                if exc.errorcode in NOT_ENROLLED:
                    return FetchResult([self._not_enrolled(code) for code in codes])
                return self._problems(course_problem(exc, course_id, codes, user_id))
            by_cmid = {status.cmid: status for status in statuses if status.tracking}
            result = FetchResult()
            missing = []
            for item in items:
                found = by_cmid.get(_number(item.activity_id or "") or -1)
                if found is None:
                    missing.append(item)
                else:
                    record = activity_record(item.code, found, self.tz, self.source_name)
                    result.completions.append(record)
            if missing:
                problems = self._missing_activities(course_id, missing)
                result.completions.extend(self._problems(problems).completions)
                result.errors.extend(problems)
            return result

        return FetchUnit(tuple(codes), run)

    def _missing_activities(self, course_id: int, items: list[CourseMapping]) -> list[SourceError]:
        """Why mapped activities are not among the statuses. Moodle leaves out an activity
        with completion tracking off (recorded: the tool's own activity, ``completion`` 0 in
        ``core_course_get_contents``, is absent from the statuses), exactly as it leaves out a
        cmid that is not in the course: the course contents tell the two apart."""
        try:
            modules = {m.cmid: m for m in self.client.get_course_contents(course_id)}
        except SourceError:
            modules = {}  # cannot tell: say what both would need
        errors: list[SourceError] = []
        for item in items:
            cmid = _number(item.activity_id or "")
            module = modules.get(cmid) if cmid is not None else None
            if cmid is not None and module is not None and module.completion == 0:
                errors.append(tracking_off(item.code, course_id, cmid))
            else:
                errors.append(_missing_activity(item))
        return errors

    def _problems(self, errors: list[SourceError]) -> FetchResult:
        return with_untrackable(errors, self.source_name)

    def _not_enrolled(self, code: str) -> Completion:
        """Moodle counts only active enrolments: an ended or suspended one answers "not
        enrolled", which must not erase a completion read while it was active."""
        return Completion(
            code, CompletionStatus.NOT_STARTED, source=self.source_name, enrolled=False
        )


def _number(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and int(value) > 0 else None


def _bad_course_id(item: CourseMapping) -> SourceError:
    return SourceConfigError(
        f"{item.code} is mapped to Moodle course {item.course_id!r}, which is not a course id "
        "(a number, as in course/view.php?id=…): correct the mapping",
        course_code=item.code,
    )


def _missing_activity(item: CourseMapping) -> SourceError:
    return SourceConfigError(
        f"Moodle course {item.course_id} has no completion-tracked activity with cmid "
        f"{item.activity_id} (mapped for {item.code}): enable completion tracking on it, make "
        "it visible, or correct the mapping",
        course_code=item.code,
    )
