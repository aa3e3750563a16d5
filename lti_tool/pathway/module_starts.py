"""Assessment-module start dates: the cohort's, and per-student attempts (late registration,
resits) whose latest one is in force. These start the deadline clock."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.audit import audit
from lti_tool.errors import InvalidInput, field_label, quoted
from lti_tool.pathway.reads import COHORT_STARTS, EFFECTIVE_STARTS
from lti_tool.persistence.locks import lock_or_insert, locked
from lti_tool.persistence.models import CohortModuleStart, Membership, StudentModuleStart
from lti_tool.rules import Qualification

# Dates staff enter for a course of study: anything outside is a typo (year 0207 for 2027),
# and dates near the calendar's ends overflow the deadline arithmetic.
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2099, 12, 31)
UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_date(value: Any, field: str) -> dt.date:
    """A date between 2000 and 2099, as ISO (2026-12-31) or as UK day/month/year
    (31/12/2026), or a clear error naming the field in words."""
    label = field_label(field)
    if isinstance(value, str):
        date = _read_date(value.strip())
        if date is not None:
            if EARLIEST_DATE <= date <= LATEST_DATE:
                return date
            raise InvalidInput(
                "date_out_of_range",
                f"{label}: {value.strip()} is not between {EARLIEST_DATE.year} and "
                f"{LATEST_DATE.year}; check the year.",
            )
    raise InvalidInput(
        "bad_date",
        f"{label}: {quoted(value)} is not a date; write it as 31/12/2026 or 2026-12-31.",
    )


def _read_date(text: str) -> dt.date | None:
    uk = UK_DATE.fullmatch(text)
    try:
        if uk:
            return dt.date(int(uk.group(3)), int(uk.group(2)), int(uk.group(1)))
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def check_module(qualification: Qualification, code: str) -> str:
    codes = [m.code for m in qualification.modules]
    if code not in codes:
        raise InvalidInput(
            "unknown_module",
            f"{quoted(code)} is not a module of {qualification.code} ({', '.join(codes)}).",
        )
    return code


def parse_starts(qualification: Qualification, body: Any) -> dict[str, dt.date]:
    """``{module code: "2027-05-30", …}`` checked whole: every key a module of
    ``qualification``, every value a date."""
    if not isinstance(body, Mapping) or not body:
        codes = ", ".join(m.code for m in qualification.modules)
        which = codes if len(qualification.modules) == 1 else f"at least one module ({codes})"
        raise InvalidInput("bad_body", f"Enter a start date for {which}.")
    return {check_module(qualification, str(k)): parse_date(v, str(k)) for k, v in body.items()}


class StartOrderQuestion(InvalidInput):
    """A later module of the qualification would start before an earlier one: asked, not
    refused (a cohort may take them out of order), and saved once confirmed."""

    status = 409
    title = "Please confirm the start dates"


def check_start_order(
    qualification: Qualification, starts: Mapping[str, dt.date], *, confirmed: bool
) -> None:
    """Raise ``StartOrderQuestion`` when, in the qualification's module order, a module would
    start before one listed ahead of it, unless ``confirmed``."""
    ordered = [(m.code, starts[m.code]) for m in qualification.modules if m.code in starts]
    for i, (earlier, earlier_start) in enumerate(ordered):
        for later, later_start in ordered[i + 1 :]:
            if later_start < earlier_start and not confirmed:
                raise StartOrderQuestion(
                    "start_order_unconfirmed",
                    f"{later} would start on {later_start.strftime('%d/%m/%Y')}, before "
                    f"{earlier} ({earlier_start.strftime('%d/%m/%Y')}). Is that right? "
                    "Confirm to save these dates anyway.",
                )


def cohort_starts(session: Session, context_pk: int) -> dict[str, dt.date]:
    rows = session.execute(COHORT_STARTS, {"context_pk": context_pk})
    return {module_code: start_date for module_code, start_date in rows}


def set_cohort_starts(
    session: Session,
    context_pk: int,
    starts: Mapping[str, dt.date],
    actor_user_pk: int | None,
    source: str = "staff",
    *,
    keep_existing: bool = False,
) -> None:
    """Set the cohort's start dates (other modules untouched), audited. With ``keep_existing``
    a date already set (by staff, or by a launch running at the same moment) is left alone."""
    for code, start in starts.items():
        row, created = lock_or_insert(
            session,
            CohortModuleStart,
            {"context_pk": context_pk, "module_code": code},
            partial(
                CohortModuleStart,
                context_pk=context_pk,
                module_code=code,
                start_date=start,
                source=source,
            ),
        )
        old = None if created else row.start_date.isoformat()
        if not created and (keep_existing or row.start_date == start):
            continue
        row.start_date, row.source = start, source
        audit(
            session,
            action="module_start.cohort",
            actor_user_pk=actor_user_pk,
            context_pk=context_pk,
            subject=code,
            old={"start_date": old},
            new={"start_date": start.isoformat(), "source": source},
        )
    session.flush()


def preset_from_launch(
    session: Session, qualification: Qualification, context_pk: int, custom: Mapping[str, Any]
) -> None:
    """Custom launch parameters ``<module code, lower case>_start`` preset cohort dates staff
    have not set."""
    existing = cohort_starts(session, context_pk)
    presets: dict[str, dt.date] = {}
    for module in qualification.modules:
        raw = custom.get(f"{module.code.lower()}_start")
        if module.code in existing or not isinstance(raw, str) or not raw.strip():
            continue
        if UK_DATE.fullmatch(raw.strip()):
            continue  # a platform's custom value is ISO; d/m/y may be a US m/d/y
        try:
            presets[module.code] = parse_date(raw, f"{module.code.lower()}_start")
        except InvalidInput:
            continue  # an unsubstituted $Variable or a typo: ignore rather than refuse a launch
    if presets:
        set_cohort_starts(session, context_pk, presets, None, source="launch", keep_existing=True)


@dataclass(frozen=True)
class Attempt:
    module_code: str
    attempt: int
    start_date: dt.date
    reason: str | None
    created_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "module": self.module_code,
            "attempt": self.attempt,
            "start_date": self.start_date.isoformat(),
            "reason": self.reason,
            "recorded_at": self.created_at.isoformat(),
        }


def add_student_start(
    session: Session,
    context_pk: int,
    user_pk: int,
    module_code: str,
    start: dt.date,
    reason: str | None,
    actor_user_pk: int | None,
) -> Attempt:
    """A new attempt for one student (a late registration, or a resit after a fail or
    referral); it restarts that student's six-month clock and earlier attempts stay. The
    student's membership row is locked first, so parallel requests number attempts in turn."""
    locked(
        session,
        select(Membership).where(
            Membership.context_pk == context_pk, Membership.user_pk == user_pk
        ),
    )
    latest = session.scalar(
        select(func.max(StudentModuleStart.attempt)).where(
            StudentModuleStart.context_pk == context_pk,
            StudentModuleStart.user_pk == user_pk,
            StudentModuleStart.module_code == module_code,
        )
    )
    row = StudentModuleStart(
        context_pk=context_pk,
        user_pk=user_pk,
        module_code=module_code,
        attempt=(latest or 0) + 1,
        start_date=start,
        reason=(reason or "").strip()[:500] or None,
        created_by_user_pk=actor_user_pk,
    )
    session.add(row)
    session.flush()
    audit(
        session,
        action="module_start.student",
        actor_user_pk=actor_user_pk,
        context_pk=context_pk,
        subject=module_code,
        subject_user_pk=user_pk,
        new={"attempt": row.attempt, "start_date": start.isoformat()},
        reason=row.reason,
    )
    return Attempt(module_code, row.attempt, start, row.reason, row.created_at)


def student_attempts(session: Session, context_pk: int, user_pk: int) -> list[Attempt]:
    rows = session.scalars(
        select(StudentModuleStart)
        .where(StudentModuleStart.context_pk == context_pk, StudentModuleStart.user_pk == user_pk)
        .order_by(StudentModuleStart.module_code, StudentModuleStart.attempt)
    )
    return [Attempt(r.module_code, r.attempt, r.start_date, r.reason, r.created_at) for r in rows]


class _Dated(Protocol):
    """A student's start attempt as ``starts_in_force`` needs it (a row, an ``Attempt``)."""

    @property
    def module_code(self) -> str: ...
    @property
    def attempt(self) -> int: ...
    @property
    def start_date(self) -> dt.date: ...


def starts_in_force(
    cohort: Mapping[str, dt.date], attempts: Iterable[_Dated]
) -> dict[str, dt.date]:
    """The cohort dates, replaced per module by the student's latest attempt (one student's
    attempts, in any order)."""
    latest: dict[str, _Dated] = {}
    for attempt in attempts:
        held = latest.get(attempt.module_code)
        if held is None or attempt.attempt > held.attempt:
            latest[attempt.module_code] = attempt
    return {**cohort, **{code: a.start_date for code, a in latest.items()}}


def effective_starts(session: Session, context_pk: int, user_pk: int) -> dict[str, dt.date]:
    """The start dates in force for one student (``starts_in_force``), in one statement: the
    cohort's dates (attempt NULL) and the student's own attempts."""
    rows = session.execute(EFFECTIVE_STARTS, {"context_pk": context_pk, "user_pk": user_pk}).all()
    cohort = {row.module_code: row.start_date for row in rows if row.attempt is None}
    return starts_in_force(cohort, [row for row in rows if row.attempt is not None])


def effective_starts_of_many(
    session: Session, context_pk: int, user_pks: Sequence[int]
) -> dict[int, dict[str, dt.date]]:
    """``effective_starts`` for several students of the course, in two queries."""
    cohort = cohort_starts(session, context_pk)
    attempts: dict[int, list[StudentModuleStart]] = defaultdict(list)
    for row in session.scalars(
        select(StudentModuleStart).where(StudentModuleStart.context_pk == context_pk)
    ):
        attempts[row.user_pk].append(row)
    return {pk: starts_in_force(cohort, attempts.get(pk, [])) for pk in user_pks}
