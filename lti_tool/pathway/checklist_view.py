"""What the student's page adds to the rules' checklist: where each CPD course is done in the
LMS, assessment results as released (a held one says only that it is held), and per module
the courses still needed, those done, and how many of an optional group are needed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from lti_tool.completion.unmapped import SourceMapping, Unread, mapping_from
from lti_tool.lms.links import CourseLink, allowed_link_hosts, course_link
from lti_tool.pathway.reads import LMS_COURSES, RESULT_ROWS
from lti_tool.rules import Completion, Qualification

OUTCOME_WORDS = {"pass": "Passed", "fail": "Not passed", "referred": "Referred"}


def add_page_facts(
    data: dict[str, Any],
    qualification: Qualification,
    links: Mapping[str, CourseLink],
    results: Sequence[ResultRow],
    include_held: bool,
) -> None:
    """Add ``link`` to each requirement, ``result`` and the course grouping to each module of
    ``data`` (the rules' checklist as a dict); ``results`` are the student's ``result_rows``."""
    views = result_views(results, include_held)
    for module in data["modules"]:
        for requirement in module["requirements"]:
            link = links.get(requirement["code"])
            requirement["link"] = link.to_dict() if link else None
        module["result"] = views.get(module["code"])
        try:
            spec = qualification.module(module["code"])
        except KeyError:
            continue
        arrange_courses(module, [(g.choose, g.courses) for g in spec.optional_groups])


def arrange_courses(module: dict[str, Any], groups: list[tuple[int, tuple[str, ...]]]) -> None:
    """Split a module's requirements into ``outstanding`` (still needed) and ``done``
    (completed, or an optional course whose group is already complete), count the courses
    needed and completed, and say for each optional course how many of its group to choose."""
    by_code = {r["code"]: r for r in module["requirements"]}
    satisfied: set[str] = set()
    module["groups"] = []
    for choose, codes in groups:
        done = sum(1 for c in codes if c in by_code and by_code[c]["status"] == "completed")
        module["groups"].append(
            {"choose": choose, "of": len(codes), "courses": list(codes), "completed": done}
        )
        for code in codes:
            if code in by_code:
                by_code[code]["choose"] = {"choose": choose, "of": len(codes)}
        if done >= choose:
            satisfied |= set(codes)
    compulsory = [r for r in module["requirements"] if r["kind"] != "optional"]
    needed = len(compulsory) + sum(choose for choose, _ in groups)
    completed = [r for r in module["requirements"] if r["status"] == "completed"]
    module["courses_needed"] = needed
    module["courses_completed"] = min(needed, sum(1 for r in completed if r["counts"]))
    module["hours_in_completed"] = sum(r["hours"] for r in completed)
    # Once the module is passed nothing more is needed for it.
    passed = (module.get("assessment") or {}).get("outcome") == "pass"
    module["outstanding"] = [
        r
        for r in module["requirements"]
        if r["status"] != "completed"
        and not passed
        and (r["kind"] != "optional" or r["code"] not in satisfied)
    ]
    kept = {r["code"] for r in module["outstanding"]}
    module["done"] = [r for r in module["requirements"] if r["code"] not in kept]


def with_lms_courses(
    session: Session,
    qualification: Qualification,
    context_pk: int | None,
    completions: Iterable[Completion],
) -> tuple[list[Completion], dict[str, CourseLink]]:
    """A student's ``completions`` with the courses their course's source never reads unknown
    (``completion.unmapped``), and where each course is done in the LMS (``lms_courses``)."""
    if context_pk is None:
        return list(completions), {}
    links, mapping = lms_courses(session, context_pk)
    return Unread.of(mapping, qualification).applied(completions), links


def lms_courses(session: Session, context_pk: int) -> tuple[dict[str, CourseLink], SourceMapping]:
    """Course code → where it is done (from the course's registration's CPD mappings and its
    completion source; none for AGS and manual sources or when nothing is mapped), and which
    courses the source reads. One statement: the registration and its source, once per
    mapping (once with none)."""
    rows = session.execute(LMS_COURSES, {"context_pk": context_pk}).all()
    if not rows:
        return {}, SourceMapping()
    first = rows[0]
    kind, endpoint_url = first.kind, first.endpoint_url
    registration_urls = [
        first.issuer,
        first.auth_login_url,
        first.auth_token_url,
        first.key_set_url,
        first.auth_audience,
    ]
    hosts = allowed_link_hosts(registration_urls, kind, endpoint_url)
    links: dict[str, CourseLink] = {}
    for row in rows:
        if row.course_code is None:  # the registration has no mappings
            continue
        link = course_link(kind, endpoint_url, row.course_id, row.activity_id, hosts)
        if link is not None:
            links[row.course_code] = link
    mapping = mapping_from(kind, first.mode, ((r.course_code, r.activity_id) for r in rows))
    return links, mapping


class ResultRow(NamedTuple):
    """The columns of one recorded assessment result (``AssessmentResultRow``)."""

    module_code: str
    outcome: str
    score: float
    max_score: float
    released: bool
    comment: str | None


def result_rows(session: Session, context_pk: int, user_pk: int) -> list[ResultRow]:
    """One student's recorded results in the course, released or held, in one statement:
    the rules and the page both work from these."""
    rows = session.execute(RESULT_ROWS, {"context_pk": context_pk, "user_pk": user_pk})
    return [ResultRow(*row) for row in rows]


def result_views(results: Sequence[ResultRow], include_held: bool) -> dict[str, dict[str, Any]]:
    """Module code → the result as the page shows it. A held result, for the student
    (``include_held`` False), is ``{"held": True}`` and nothing else: no score, outcome or
    comment leaves the tool before release."""
    views: dict[str, dict[str, Any]] = {}
    for row in results:
        if not row.released and not include_held:
            views[row.module_code] = {"held": True}
            continue
        views[row.module_code] = {
            "held": not row.released,
            "score": score_text(row.score),
            "max_score": score_text(row.max_score),
            "outcome": row.outcome,
            "outcome_words": OUTCOME_WORDS.get(row.outcome, row.outcome),
            "comment": (row.comment or "").strip() or None,
        }
    return views


def score_text(value: float | None) -> str:
    """A score as the LMS gradebook shows it: 68, 68.5, 68.25 (never 68.0 or 68.499999)."""
    if value is None:
        return ""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text
