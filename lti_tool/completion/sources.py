"""Who a refresh is for, and the client that reads their completion: one per source kind
(Moodle web services, Canvas REST, the platform's AGS gradebook)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from lti_tool.completion.setup import SourceSettings
from lti_tool.container import Services
from lti_tool.lms.canvas.client import CanvasRestClient
from lti_tool.lms.canvas.identity import canvas_user
from lti_tool.lms.canvas.source import CanvasCompletionSource
from lti_tool.lms.moodle.client import MoodleWsClient
from lti_tool.lms.moodle.own_site import OwnSiteSource, check_key
from lti_tool.lms.moodle.source import MoodleCompletionSource
from lti_tool.lms.source import CompletionSource, CourseMapping, LmsUser


@dataclass(frozen=True)
class Student:
    """Who to refresh: the tool's user row and what the LMS calls them."""

    registration_pk: int
    user_pk: int
    sub: str
    custom: Mapping[str, Any]
    context_pk: int | None = None
    # The LTI context id of the course they were seen in (Canvas finds them there first).
    context_id: str | None = None


def build_source(
    services: Services, settings: SourceSettings, context_pk: int | None = None
) -> CompletionSource | None:
    """The client for a registration's configured source (None for manual records)."""
    tz = ZoneInfo(services.settings.timezone)
    if settings.kind == "ags":
        return _ags_source(services, settings, context_pk, tz)
    timeout = services.settings.http_timeout_seconds
    if settings.kind == "moodle" and settings.endpoint_url and settings.token:
        client = MoodleWsClient(
            settings.endpoint_url, settings.token, services.lms_http, timeout=timeout
        )
        source = MoodleCompletionSource(client, settings.mode, tz=tz)
        return OwnSiteSource(source, _own_site_check(services, settings, client))
    if settings.kind == "canvas" and settings.endpoint_url and settings.token:
        canvas = CanvasRestClient(
            settings.endpoint_url, settings.token, services.lms_http, timeout=timeout
        )
        return CanvasCompletionSource(canvas, settings.mode, tz=tz)
    return None


def _own_site_check(
    services: Services, settings: SourceSettings, client: MoodleWsClient
) -> Callable[[], None]:
    """The check that the source's web service is the platform's own Moodle site, its
    answer remembered by the process (``services.moodle_sites``)."""
    key = check_key(client.endpoint_url, settings.token or "", settings.issuer)

    def confirm() -> None:
        services.moodle_sites.confirm(key, lambda: client.check_own_site(settings.issuer))

    return confirm


def _ags_source(
    services: Services, settings: SourceSettings, context_pk: int | None, tz: Any
) -> CompletionSource | None:
    from lti_tool.lms.ags_results import AgsResultsSource
    from lti_tool.lti.platform_services import service_connector
    from lti_tool.persistence.models import Context

    if context_pk is None:
        return None
    with services.db.read_only() as session:
        context = session.get(Context, context_pk)
        url = context.ags_lineitems_url if context else None
        granted = frozenset(str(s) for s in (context.ags_scopes or [])) if context else None
    if not url:
        return None
    connector = service_connector(services, settings.registration_pk)
    # Asked with the scopes the course's launches say the platform granted.
    return AgsResultsSource(connector, url, settings.ags_threshold, tz, scopes=granted)


def cpd_codes(services: Services, mapped: Collection[str] = ()) -> list[CourseMapping]:
    """The CPD codes of every qualification of the catalogue none of whose courses is among
    ``mapped`` (not set up yet: AGS finds their columns by code), unmapped."""
    codes: dict[str, CourseMapping] = {}
    for qualification in services.catalog.qualifications.values():
        if set(qualification.course_codes()) & set(mapped):
            continue
        for module in qualification.modules:
            for course in module.courses:
                codes.setdefault(course.code, CourseMapping(course.code, "-"))
    return list(codes.values())


def lms_user(kind: str, student: Student) -> LmsUser:
    """Moodle's LTI ``sub`` is its user id. Canvas's is opaque: Canvas is asked whose it is
    (``lms/canvas/identity.py``), never the launch's ``canvas_user_id``, which a link's own
    custom parameters replace with whatever a teacher wrote."""
    if kind == "canvas":
        return canvas_user(student.sub, student.context_id)
    return LmsUser(student.sub)
