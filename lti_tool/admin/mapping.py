"""CPD course mappings on the admin pages: show, set one by hand, discover from the LMS and
store what was found after the admin has seen it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from lti_tool.admin.audit_log import record_admin_change
from lti_tool.admin.identity import AdminIdentity
from lti_tool.admin.platforms import get_registration
from lti_tool.audit import registration_subject
from lti_tool.completion.mapping_fit import not_read, refusal, search_refusal
from lti_tool.completion.setup import SetupError, mappings_of, set_mapping, source_settings
from lti_tool.container import Services
from lti_tool.crypto import SecretUnreadable
from lti_tool.errors import NotFound, UpstreamError
from lti_tool.lms.canvas.client import CanvasRestClient
from lti_tool.lms.discovery import Discovery, Proposal, discover_canvas, discover_moodle
from lti_tool.lms.moodle.client import MoodleWsClient
from lti_tool.lms.moodle.own_site import check_key
from lti_tool.lms.source import MappingMode, SourceError

DISCOVERY_KIND = "admin_discover"
DISCOVERY_TTL_SECONDS = 900


@dataclass(frozen=True)
class MappingRow:
    code: str
    course_id: str | None
    activity_id: str | None
    label: str | None
    origin: str | None
    # Why the source does not read this mapping (it does not fit the source's mode), or None.
    not_read: str | None = None


@dataclass(frozen=True)
class MappingView:
    registration_pk: int
    registration_name: str
    source_kind: str | None
    rows: list[MappingRow]  # every CPD code, mapped or not

    @property
    def unmapped(self) -> list[str]:
        return [r.code for r in self.rows if r.course_id is None]


@dataclass(frozen=True)
class DiscoveryResult:
    discovery_id: str
    found: Discovery


def cpd_codes(services: Services) -> list[str]:
    """Every CPD course code of every qualification the tool knows, in catalogue order."""
    codes: list[str] = []
    for qualification in services.catalog.qualifications.values():
        for module in qualification.modules:
            codes.extend(c.code for c in module.courses if c.code not in codes)
    return codes


def mapping_view(services: Services, identity: AdminIdentity, registration_pk: int) -> MappingView:
    """The registration's mappings, one row per CPD code (unmapped ones empty)."""
    registration = get_registration(services, identity, registration_pk)
    with services.db.read_only() as session:
        stored = {r.course_code: r for r in mappings_of(session, registration_pk)}
    rows = []
    for code in [*cpd_codes(services), *sorted(set(stored) - set(cpd_codes(services)))]:
        row = stored.get(code)
        rows.append(
            MappingRow(
                code,
                row.course_id if row else None,
                row.activity_id if row else None,
                row.label if row else None,
                row.origin if row else None,
                not_read(registration.source_kind, registration.source_mode, row.activity_id)
                if row
                else None,
            )
        )
    return MappingView(registration.pk, registration.name, registration.source_kind, rows)


def set_course_mapping(
    services: Services,
    identity: AdminIdentity,
    registration_pk: int,
    code: str,
    course_id: str,
    activity_id: str | None,
) -> None:
    """Map CPD course ``code`` to an LMS course (and activity/module); audited."""
    registration = get_registration(services, identity, registration_pk)
    code = code.strip()
    if code not in cpd_codes(services):
        raise SetupError("unknown_code", f"{code} is not a CPD course of any known qualification")
    with services.db.unit_of_work() as session:
        before = {r.course_code: r for r in mappings_of(session, registration_pk)}.get(code)
        old = {"course_id": before.course_id, "activity_id": before.activity_id} if before else None
        row = set_mapping(session, registration.name, code, course_id, activity_id or None)
        refused = refusal(registration.source_kind, registration.source_mode, code, row.activity_id)
        if refused is not None:  # raised inside the transaction: nothing is stored
            raise SetupError("mapping_unread", refused)
        record_admin_change(
            session,
            identity,
            action="mapping.set",
            subject=registration_subject(registration_pk, f"mapping:{code}"),
            old=old,
            new={"course_id": row.course_id, "activity_id": row.activity_id},
        )


def discover_mappings(
    services: Services,
    identity: AdminIdentity,
    registration_pk: int,
    mode: str,
    course_id: str | None,
) -> DiscoveryResult:
    """Ask the LMS which of its courses (or activities of one course) carry the CPD codes.
    Nothing is stored; the proposals wait for :func:`apply_discovery`."""
    get_registration(services, identity, registration_pk)
    with services.db.read_only() as session:
        try:
            source = source_settings(session, services.secrets, registration_pk)
        except SecretUnreadable as exc:
            raise SetupError("token_unreadable", str(exc)) from None
    if source is None or source.kind not in {"moodle", "canvas"} or not source.endpoint_url:
        raise SetupError(
            "no_lms_source",
            "Discovery needs a Moodle or Canvas completion source: set one up first.",
        )
    chosen = MappingMode.ACTIVITY if mode == "activities" else MappingMode.COURSE
    refused = search_refusal(source.kind, source.mode.value, chosen is MappingMode.ACTIVITY)
    if refused is not None:
        raise SetupError("search_unread", refused)
    if chosen is MappingMode.ACTIVITY and not (course_id or "").strip():
        raise SetupError("course_needed", "Discovering activities needs the LMS course id.")
    token = source.token or ""
    codes = cpd_codes(services)
    try:
        if source.kind == "moodle":
            moodle = MoodleWsClient(source.endpoint_url, token, services.lms_http)
            issuer = source.issuer
            # Only the platform's own Moodle site's courses (lms/moodle/own_site.py).
            services.moodle_sites.confirm(
                check_key(moodle.endpoint_url, token, issuer), lambda: moodle.check_own_site(issuer)
            )
            found = discover_moodle(moodle, codes, chosen, course_id)
        else:
            found = discover_canvas(
                CanvasRestClient(source.endpoint_url, token, services.lms_http),
                codes,
                chosen,
                course_id,
            )
    except SourceError as exc:
        raise UpstreamError("discovery_failed", exc.message) from None
    discovery_id = secrets.token_urlsafe(18)
    services.store.put(
        DISCOVERY_KIND,
        discovery_id,
        {
            "registration_pk": registration_pk,
            "by": identity.label,
            "proposals": [
                [p.code, p.course_id, p.activity_id, p.label, p.matched_by] for p in found.proposals
            ],
        },
        DISCOVERY_TTL_SECONDS,
    )
    return DiscoveryResult(discovery_id, found)


def apply_discovery(
    services: Services, identity: AdminIdentity, registration_pk: int, discovery_id: str
) -> int:
    """Store the proposals of an earlier discovery (once); returns how many."""
    registration = get_registration(services, identity, registration_pk)
    data = services.store.get(DISCOVERY_KIND, discovery_id) if len(discovery_id) < 64 else None
    if (
        data is None
        or data.get("registration_pk") != registration_pk
        or data.get("by") != identity.label
        or services.store.take(DISCOVERY_KIND, discovery_id) is None
    ):
        raise NotFound("discovery_expired", "These results expired: run the discovery again.")
    proposals = [Proposal(*p) for p in data["proposals"]]
    kind, mode = registration.source_kind, registration.source_mode
    for p in proposals:  # found before the source's mode changed: it would not read them
        refused = refusal(kind, mode, p.code, p.activity_id)
        if refused is not None:
            raise SetupError(
                "mapping_unread", f"{refused} Nothing that search found was stored: search again."
            )
    with services.db.unit_of_work() as session:
        for p in proposals:
            set_mapping(
                session,
                registration.name,
                p.code,
                p.course_id,
                p.activity_id,
                p.label,
                origin="discovered",
            )
        record_admin_change(
            session,
            identity,
            action="mapping.discover",
            subject=registration_subject(registration_pk, "mapping"),
            new={"stored": {p.code: [p.course_id, p.activity_id] for p in proposals}},
        )
    return len(proposals)
