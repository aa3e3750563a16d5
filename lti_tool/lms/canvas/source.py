"""Canvas as a completion source, over its REST API.

``CanvasRestClient`` (in ``client``, re-exported here) handles the token, paging and
throttling. ``CanvasCompletionSource`` reads, for the student Canvas names by their LTI ``sub``
(``identity``; never a custom parameter a link can set):

- **course** mode (one Canvas course per CPD course): ``GET /api/v1/courses/:id/users/:uid/
  progress``. ``completed_at`` set (or every requirement met) → completed; **in progress** = at
  least one module requirement met (``requirement_completed_count`` > 0); none → not started.
  Canvas answers "no progress available" both for a course without completion requirements
  and for a user who is not a student there: the course's own modules tell them apart (one
  call, only then). No requirements → **untrackable** (Canvas cannot tell), with a
  ``CourseUntrackable`` error; requirements → not started, like a user not in the course.
- **activity** mode (one Canvas module per CPD course; ``activity_id`` = module id):
  ``GET /api/v1/courses/:id/modules?student_id=…&include[]=items``, one paged call per course.
  Module ``state`` completed → completed on ``completed_at``; **in progress** = ``started``;
  ``unlocked``/``locked`` → not started. A module whose items carry no completion requirement
  → **untrackable** with a ``CourseUntrackable`` error (Canvas would call it completed as soon
  as it is unlocked).

A 404 for a student means "not in this course" (not started) once the course itself is known to
exist; otherwise it is a mapping error. Canvas gives no start dates: ``started_at`` is ``None``.
Calls for one student run at most ``max_workers`` (2) at a time: Canvas throttles parallel
requests sooner than sequential ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from zoneinfo import ZoneInfo

from lti_tool.lms.canvas import parsing as parse
from lti_tool.lms.canvas.client import CanvasRestClient
from lti_tool.lms.canvas.identity import CanvasIdentity
from lti_tool.lms.canvas.parsing import CanvasApiError
from lti_tool.lms.source import (
    CourseMapping,
    CourseUntrackable,
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

__all__ = ["CanvasCompletionSource", "CanvasRestClient"]


class CanvasCompletionSource:
    """A ``CompletionSource`` reading Canvas module progress (see the module docstring)."""

    def __init__(
        self,
        client: CanvasRestClient,
        mode: MappingMode | str = MappingMode.COURSE,
        *,
        tz: tzinfo | None = None,
        max_workers: int = 2,
        source_name: str = "canvas",
    ) -> None:
        self.client = client
        self.mode = MappingMode(mode)
        self.tz = tz or ZoneInfo("Europe/London")
        self.max_workers = max_workers
        self.source_name = source_name

    def fetch(self, user: LmsUser, mapping: Sequence[CourseMapping]) -> FetchResult:
        """Completions for ``user`` (``identity.canvas_user``: Canvas says who the sub is)."""
        if not user.user_id:
            raise SourceConfigError("the launch names no user Canvas could be asked about")
        identity = CanvasIdentity(self.client, user)
        errors = check_mode(self.mode, mapping)
        refused = {error.course_code for error in errors}
        by_course: dict[str, list[CourseMapping]] = {}
        for item in mapping:
            if item.code not in refused:
                by_course.setdefault(item.course_id, []).append(item)
        if self.mode is MappingMode.COURSE:
            units = [
                self._course_unit(identity, item) for items in by_course.values() for item in items
            ]
        else:
            units = [self._module_unit(identity, items) for items in by_course.values()]
        order = [item.code for item in mapping]
        return gather(units, self.max_workers, order, initial_errors=errors)

    def _course_unit(self, identity: CanvasIdentity, item: CourseMapping) -> FetchUnit:
        def run() -> FetchResult:
            try:
                user_id = identity.id_in(item.course_id)
                progress = self.client.course_progress(item.course_id, user_id)
            except CanvasApiError as exc:
                return self._refusal(exc, item.course_id, [item])
            record = parse.progress_record(item.code, progress, self.tz, self.source_name)
            return FetchResult([record])

        return FetchUnit((item.code,), run)

    def _module_unit(self, identity: CanvasIdentity, items: list[CourseMapping]) -> FetchUnit:
        course_id = items[0].course_id

        def run() -> FetchResult:
            try:
                modules = self.client.modules(course_id, identity.id_in(course_id))
            except CanvasApiError as exc:
                return self._refusal(exc, course_id, items)
            by_id = {module.id: module for module in modules}
            result = FetchResult()
            for item in items:
                module = by_id.get(item.activity_id or "")
                if module is None:
                    result.errors.append(_config(item, _NO_MODULE.format(item=item)))
                elif module.has_requirements is False:
                    problem = module_without_requirements(
                        item.code, course_id, item.activity_id or ""
                    )
                    result.completions.extend(
                        with_untrackable([problem], self.source_name).completions
                    )
                    result.errors.append(problem)
                elif module.state is None:
                    result.errors.append(_config(item, _NO_STATE.format(item=item)))
                else:
                    record = parse.module_record(item.code, module, self.tz, self.source_name)
                    result.completions.append(record)
            return result

        return FetchUnit(tuple(item.code for item in items), run)

    def _refusal(
        self, exc: CanvasApiError, course_id: str, items: Sequence[CourseMapping]
    ) -> FetchResult:
        """Per-course results for a Canvas refusal about ``course_id``."""
        if exc.status == 404:
            if self.client.course_exists(course_id):
                return FetchResult([self._not_enrolled(item.code) for item in items])
            template = _NO_COURSE
        elif exc.no_progress:
            return self._no_progress(exc, course_id, items)
        elif exc.status in (401, 403):
            template = _NO_PERMISSION
        else:
            return FetchResult(
                errors=[SourceError(exc.message, course_code=item.code) for item in items]
            )
        return FetchResult(
            errors=[_config(item, template.format(item=item, exc=exc)) for item in items]
        )

    def _no_progress(
        self, exc: CanvasApiError, course_id: str, items: Sequence[CourseMapping]
    ) -> FetchResult:
        """ "No progress available": a course without completion requirements (untrackable),
        or a user who is not a student there (not started); the course's modules tell."""
        try:
            has_requirements = self.client.course_has_requirements(course_id)
        except CanvasApiError:
            has_requirements = None
        if has_requirements is True:
            return FetchResult([self._not_enrolled(item.code) for item in items])
        if has_requirements is False:
            problems: list[SourceError] = [
                course_without_requirements(item.code, course_id) for item in items
            ]
            return with_untrackable(problems, self.source_name)
        return FetchResult(
            errors=[_config(item, _NOT_MODULE_BASED.format(item=item, exc=exc)) for item in items]
        )

    def _not_enrolled(self, code: str) -> Completion:
        """The user is not (or no longer) a student of the course: not started, unless a
        completion was read while they were (``completion.refresh`` keeps it)."""
        return Completion(
            code, CompletionStatus.NOT_STARTED, source=self.source_name, enrolled=False
        )


def _config(item: CourseMapping, message: str) -> SourceError:
    return SourceConfigError(message, course_code=item.code)


_NO_COURSE = (
    "Canvas has no course {item.course_id} (mapped for {item.code}), or the token's user cannot "
    "see it: correct the course mapping or give that user access to the course."
)
_NOT_MODULE_BASED = (
    "Canvas keeps no progress for course {item.course_id} (mapped for {item.code}): "
    "{exc.message}. Add module completion requirements to the course."
)
_NO_PERMISSION = (
    "The Canvas token's user may not read student progress in course {item.course_id} "
    "(mapped for {item.code}): {exc.message}. Give it a role with the 'View all grades' "
    "permission there (e.g. an account admin role)."
)
_NO_MODULE = (
    "Canvas course {item.course_id} has no module {item.activity_id} (mapped for {item.code}): "
    "correct the mapping (the module id is in the module's URL)."
)
_NO_STATE = (
    "Canvas returned module {item.activity_id} of course {item.course_id} (mapped for "
    "{item.code}) without a completion state: the token's user needs permission to view "
    "students' progress."
)


def course_without_requirements(code: str, course_id: str) -> CourseUntrackable:
    """A Canvas course whose modules carry no completion requirement: Canvas keeps no
    progress for anyone in it."""
    return CourseUntrackable(
        f"{code}'s Canvas course has no module completion requirements: a Canvas teacher must "
        f"add them (course {course_id}: Modules > a module's menu > Edit > Add requirement), "
        "or map the CPD course to a module instead.",
        course_code=code,
    )


def module_without_requirements(code: str, course_id: str, module_id: str) -> CourseUntrackable:
    """A mapped Canvas module whose items carry no completion requirement: Canvas would call
    it completed as soon as it is unlocked."""
    return CourseUntrackable(
        f"{code}'s Canvas module has no completion requirements: a Canvas teacher must add "
        f"them (course {course_id}, module {module_id}: the module's menu > Edit > Add "
        "requirement); until then Canvas would count it complete as soon as it is unlocked.",
        course_code=code,
    )
