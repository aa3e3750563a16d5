"""CPD courses an LMS source with some courses mapped never reads: it is never asked about them.

A refresh reads only the mapped courses (in activity mode, only those mapped with their
activity or module; in course mode, only those mapped without one: ``lms.source.check_mode``,
``completion.mapping_fit``), so an unmapped course has no record from the
LMS, or an old one from before its mapping went. Shown as "not started" it would be a guess (the
student may have finished it in the LMS), so it reads as ``untrackable``: unknown, neither
counted, planned nor overdue, like a course the LMS answered it cannot track. This is worked
out when a page is shown, from the registration's mapping, and nothing is stored: once the
course is mapped and read, its real status shows.

What stays as it is: a staff record (a correction) and a completion the LMS once reported
(unknown never erases what was known). A manual source reads nothing from an LMS; a Moodle or
Canvas source with none of a qualification's courses mapped (nothing at all, or only another
qualification's) is not set up yet for it (the refresh reads nothing of it) and its courses
read as before. An AGS source finds a qualification's CPD codes by themselves only while none
of them is mapped: once some are, it reads those alone (``completion.refresh.prepare_source``),
so the others are unknown there too.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.completion.mapping_fit import fits, stray_part
from lti_tool.completion.store import MANUAL_SOURCE
from lti_tool.persistence.models import (
    CompletionSourceConfig,
    Context,
    CourseMappingRow,
    Deployment,
)
from lti_tool.rules import Completion, CompletionStatus, Qualification

MAPPED_SOURCES = {"moodle": "Moodle", "canvas": "Canvas"}  # the sources read by a mapping
# AGS reads every CPD code with nothing mapped, and only the mapped ones once some are.
READ_BY_MAPPING = {*MAPPED_SOURCES, "ags"}


@dataclass(frozen=True)
class SourceMapping:
    """Which CPD courses a course's completion source reads: its kind, mode and the codes
    its registration maps (no kind: the registration has no source)."""

    kind: str | None = None
    mode: str = "course"
    mapped: frozenset[str] = frozenset()
    # Mapped in a way the source's mode does not read (in activity mode without the activity
    # or module; in course mode with one): the refresh refuses such a mapping
    # (``lms.source.check_mode``), so the course is never read.
    unfit: frozenset[str] = frozenset()

    def unmapped(self, codes: Iterable[str]) -> frozenset[str]:
        """Of ``codes`` (one qualification's), those a Moodle, Canvas or AGS source with some
        of them mapped never reads; none while none of them is mapped (not set up yet)."""
        codes = frozenset(codes)
        if self.kind not in READ_BY_MAPPING or not codes & self.mapped:
            return frozenset()
        return codes - (self.mapped - self.unfit)

    def cause(self, code: str) -> str:
        """What staff are told of a course it never reads."""
        if code in self.unfit and self.mode != "activity":
            return stray_part(code, self.kind)
        return not_linked(code, self.kind, self.mode)


def mapping_from(
    kind: str | None, mode: str, rows: Iterable[tuple[str | None, str | None]]
) -> SourceMapping:
    """The ``SourceMapping`` of a source and its registration's ``(code, activity id)`` rows
    (a code of None: no mapping at all)."""
    pairs = [(code, activity) for code, activity in rows if code is not None]
    unfit = {code for code, activity in pairs if not fits(kind, mode, activity)}
    return SourceMapping(kind, mode, frozenset(c for c, _ in pairs), frozenset(unfit))


def source_mapping(session: Session, context_pk: int) -> SourceMapping:
    """The course's registration's ``SourceMapping``, in one statement."""
    rows = session.execute(
        select(
            CompletionSourceConfig.kind,
            CompletionSourceConfig.mode,
            CourseMappingRow.course_code,
            CourseMappingRow.activity_id,
        )
        .join(Deployment, Deployment.registration_id == CompletionSourceConfig.registration_pk)
        .join(Context, Context.deployment_pk == Deployment.id)
        .outerjoin(
            CourseMappingRow,
            CourseMappingRow.registration_pk == CompletionSourceConfig.registration_pk,
        )
        .where(Context.id == context_pk)
    ).all()
    if not rows:
        return SourceMapping()
    return mapping_from(rows[0].kind, rows[0].mode, ((r.course_code, r.activity_id) for r in rows))


def unknown_where_unmapped(
    completions: Iterable[Completion], unmapped: Collection[str], source: str | None
) -> list[Completion]:
    """One student's completions (in force) with each ``unmapped`` course unknown
    (``untrackable``) unless a staff record or a completion read from the LMS says more."""
    completions = list(completions)
    if not unmapped:
        return completions
    known = {
        c.course_code
        for c in completions
        if c.source == MANUAL_SOURCE or c.status is CompletionStatus.COMPLETED
    }
    unknown = sorted(set(unmapped) - known)
    kept = [c for c in completions if c.course_code not in unknown]
    untrackable = CompletionStatus.UNTRACKABLE
    return kept + [Completion(code, untrackable, source=source or "") for code in unknown]


@dataclass(frozen=True)
class Unread:
    """The CPD courses of one qualification a course's source never reads (``kind``: the
    source), worked out once per page and applied to each student's completions."""

    codes: frozenset[str]
    kind: str | None

    @classmethod
    def of(cls, mapping: SourceMapping, qualification: Qualification) -> Unread:
        return cls(mapping.unmapped(qualification.course_codes()), mapping.kind)

    def applied(self, completions: Iterable[Completion]) -> list[Completion]:
        """``unknown_where_unmapped`` of one student's completions (in force)."""
        return unknown_where_unmapped(completions, self.codes, self.kind)


def not_linked(code: str, kind: str | None, mode: str | None) -> str:
    """What staff are told of an unmapped course: who links it, and where."""
    if kind == "ags":
        return (
            f"{code} is not on the tool's CPD course mapping page, so the tool does not look for "
            "its gradebook column: the administrator who set the tool up must add it there, or "
            "remove every course from that page so that each CPD course is found by its code."
        )
    lms = MAPPED_SOURCES.get(kind or "", "LMS")
    what = {"moodle": "activity", "canvas": "module"}.get(kind or "", "activity")
    thing = what if mode == "activity" else "course"
    return (
        f"{code} is not linked to a {lms} {thing} yet, so the tool cannot read it: the "
        f"administrator who set the tool up for {lms} must link it on the tool's CPD course "
        "mapping page."
    )
