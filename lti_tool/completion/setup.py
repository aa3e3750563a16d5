"""Admin set-up of completion sources and CPD course mappings, per registration."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.crypto import SecretBox
from lti_tool.errors import ToolError
from lti_tool.lms.moodle.site_address import NotAMoodleAddress, moodle_rest_endpoint
from lti_tool.lms.source import CourseMapping, MappingMode
from lti_tool.lti.platform_spec import RegistryError
from lti_tool.lti.registry import check_platform_url, get_by_name
from lti_tool.persistence.models import CompletionSourceConfig, CourseMappingRow, Registration

SOURCE_KINDS = ("moodle", "canvas", "ags", "manual")
# What the set-up's refusals call a source (never its stored name).
SOURCE_NAMES = {"moodle": "Moodle", "canvas": "Canvas"}
MAX_ENDPOINT_LENGTH = 1024  # completion_sources.endpoint_url (models/lms.py)

# The refusals of the source page and `platform set-completion`, for an LMS admin: what the
# form offers, in its own words, never the value sent nor a field's name.
BAD_KIND = (
    "Choose where the tool reads completion from: Moodle web services, the Canvas REST API, "
    "the AGS results of the course's CPD columns, or manual records and CSV imports only."
)
BAD_MODE = (
    "Choose how CPD courses are mapped: one LMS course per CPD course, or one activity "
    "(module) per CPD course."
)
BAD_THRESHOLD = (
    "The AGS threshold is the fraction of the maximum score that counts as completed: a "
    "number from 0 to 1, such as 0.5."
)


class SetupError(ToolError):
    status = 422
    title = "The completion source could not be set up"


def moodle_endpoint(url: str) -> str:
    """The web-service endpoint from a Moodle site's address or the endpoint itself."""
    try:
        return moodle_rest_endpoint(url)
    except NotAMoodleAddress as exc:
        raise SetupError(
            "bad_moodle_url", f"The Moodle site address is not usable: {exc}."
        ) from None


def site_address(url: str, *, development: bool) -> str:
    """A Moodle or Canvas site's address as given, once it is one the tool may call (https;
    plain http to this computer in development) and fits its column; refused in words."""
    if len(url) > MAX_ENDPOINT_LENGTH:
        raise SetupError(
            "bad_url",
            f"The site address is too long: give the site's address "
            f"(at most {MAX_ENDPOINT_LENGTH} characters).",
        )
    try:
        return check_platform_url(url, development=development, field="URL")
    except RegistryError:
        local = " (plain http only to this computer while the tool runs in development)"
        raise SetupError(
            "bad_url",
            "The site address must be a full web address starting with https://, for "
            f"example https://moodle.example.ac.uk{local if development else ''}.",
        ) from None


@dataclass(frozen=True)
class SourceSettings:
    """A registration's completion source, with its token opened (never logged)."""

    registration_pk: int
    kind: str
    endpoint_url: str | None
    token: str | None
    mode: MappingMode
    ags_threshold: float
    # The registration's issuer: a Moodle source must be this site (Moodle's wwwroot).
    issuer: str = ""


def configure_source(
    session: Session,
    box: SecretBox,
    registration_name: str,
    *,
    kind: str,
    endpoint_url: str | None = None,
    token: str | None = None,
    mode: str = "course",
    ags_threshold: float | None = None,
    development: bool,
) -> CompletionSourceConfig:
    """Set where completion comes from; the token is sealed before it is stored."""
    if kind not in SOURCE_KINDS:
        raise SetupError("bad_kind", BAD_KIND)
    try:
        mapping_mode = MappingMode(mode)
    except ValueError:
        raise SetupError("bad_mode", BAD_MODE) from None
    if kind in SOURCE_NAMES:
        if not endpoint_url or not token:
            raise SetupError(
                "incomplete",
                f"A {SOURCE_NAMES[kind]} source needs the site's address and an API token.",
            )
        endpoint_url = site_address(endpoint_url, development=development)
        if kind == "moodle":
            endpoint_url = moodle_endpoint(endpoint_url)
    registration = get_by_name(session, registration_name)
    row = session.get(CompletionSourceConfig, registration.id)
    if row is None:
        row = CompletionSourceConfig(registration_pk=registration.id)
        session.add(row)
    row.kind = kind
    row.endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None
    row.token_sealed = box.seal(token) if token else None
    row.mode = mapping_mode.value
    if ags_threshold is not None:
        if not 0 <= ags_threshold <= 1:
            raise SetupError("bad_threshold", BAD_THRESHOLD)
        row.ags_threshold = ags_threshold
    session.flush()
    return row


def source_settings(
    session: Session, box: SecretBox, registration_pk: int
) -> SourceSettings | None:
    """The registration's source and its issuer, in one statement; None when none is set."""
    found = session.execute(
        select(CompletionSourceConfig, Registration.issuer)
        .join(Registration, Registration.id == CompletionSourceConfig.registration_pk)
        .where(CompletionSourceConfig.registration_pk == registration_pk)
    ).first()
    if found is None:
        return None
    row, issuer = found
    return SourceSettings(
        registration_pk=registration_pk,
        kind=row.kind,
        endpoint_url=row.endpoint_url,
        token=box.open(row.token_sealed) if row.token_sealed else None,
        mode=MappingMode(row.mode),
        ags_threshold=row.ags_threshold,
        issuer=issuer,
    )


def set_mapping(
    session: Session,
    registration_name: str,
    code: str,
    course_id: str,
    activity_id: str | None = None,
    label: str | None = None,
    origin: str = "admin",
) -> CourseMappingRow:
    """Map CPD course ``code`` to an LMS course (and activity/module)."""
    registration = get_by_name(session, registration_name)
    if not code.strip() or not str(course_id).strip():
        raise SetupError("bad_mapping", "a mapping needs a course code and an LMS course id")
    # The columns' sizes (models/lms.py), said in words before the database would refuse.
    for value, limit, what in (
        (code.strip(), 32, "the CPD course code"),
        (str(course_id).strip(), 64, "the LMS course id"),
        (str(activity_id or "").strip(), 64, "the LMS activity or module id"),
    ):
        if len(value) > limit:
            raise SetupError("bad_mapping", f"{what} is longer than {limit} characters")
    row = session.scalar(
        select(CourseMappingRow).where(
            CourseMappingRow.registration_pk == registration.id,
            CourseMappingRow.course_code == code.strip(),
        )
    )
    if row is None:
        row = CourseMappingRow(registration_pk=registration.id, course_code=code.strip())
        session.add(row)
    row.course_id = str(course_id).strip()
    row.activity_id = str(activity_id).strip() if activity_id else None
    row.label = label[:255] if label else label  # a course's name from the LMS, for display
    row.origin = origin
    session.flush()
    return row


def mappings_of(session: Session, registration_pk: int) -> list[CourseMappingRow]:
    return list(
        session.scalars(
            select(CourseMappingRow)
            .where(CourseMappingRow.registration_pk == registration_pk)
            .order_by(CourseMappingRow.course_code)
        )
    )


def as_course_mappings(rows: Sequence[CourseMappingRow]) -> list[CourseMapping]:
    return [CourseMapping(r.course_code, r.course_id, r.activity_id) for r in rows]
