"""A registration's completion source on the admin pages: shown with its token masked, and
changed in two steps (the form stages the change, a confirmation page applies it).

The staged change waits in the shared store with its token sealed, so the confirmation page
never carries a secret, and only the admin who staged it can apply it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from lti_tool.admin.audit_log import record_admin_change
from lti_tool.admin.identity import AdminIdentity
from lti_tool.admin.platforms import get_registration
from lti_tool.audit import registration_subject
from lti_tool.completion.setup import (
    BAD_KIND,
    BAD_THRESHOLD,
    SOURCE_KINDS,
    SetupError,
    configure_source,
    moodle_endpoint,
)
from lti_tool.container import Services
from lti_tool.crypto import SecretUnreadable
from lti_tool.errors import NotFound
from lti_tool.lms.moodle.client import MoodleWsClient
from lti_tool.lms.moodle.parsing import SiteInfo
from lti_tool.lms.moodle.site_identity import ForeignMoodleSite, foreign_site
from lti_tool.lms.source import SourceError
from lti_tool.persistence.models import CompletionSourceConfig
from lti_tool.urls import web_origin

CHANGE_KIND = "admin_change"
CHANGE_TTL_SECONDS = 900
TOKEN_KINDS = ("moodle", "canvas")


@dataclass(frozen=True)
class SourceSummary:
    """A completion source as the page shows it: the token only as a state."""

    kind: str
    endpoint_url: str | None
    token: str  # "stored", "none", "unreadable", "new", "kept"
    mode: str
    ags_threshold: float

    def as_audit(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "endpoint_url": self.endpoint_url,
            "token": self.token,
            "mode": self.mode,
            "ags_threshold": self.ags_threshold,
        }


@dataclass(frozen=True)
class SourceForm:
    kind: str
    endpoint_url: str
    token: str
    mode: str
    ags_threshold: str


@dataclass(frozen=True)
class StagedChange:
    change_id: str
    registration_pk: int
    registration_name: str
    current: SourceSummary | None
    proposed: SourceSummary


def source_summary(
    services: Services, identity: AdminIdentity, registration_pk: int
) -> SourceSummary | None:
    """The registration's completion source, secrets masked; None when none is set."""
    get_registration(services, identity, registration_pk)
    summary, _ = _current(services, registration_pk)
    return summary


def _current(services: Services, registration_pk: int) -> tuple[SourceSummary | None, str | None]:
    """The current source (masked) and its opened token, for keeping it unchanged."""
    with services.db.read_only() as session:
        row = session.get(CompletionSourceConfig, registration_pk)
    if row is None:
        return None, None
    token: str | None = None
    state = "none"
    if row.token_sealed:
        try:
            token, state = services.secrets.open(row.token_sealed), "stored"
        except SecretUnreadable:
            state = "unreadable"
    return SourceSummary(row.kind, row.endpoint_url, state, row.mode, row.ags_threshold), token


def _threshold(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise SetupError("bad_threshold", BAD_THRESHOLD) from None


def _origin(url: str) -> str:
    return web_origin(url) or ""  # no origin: the stored token goes nowhere new


def stage_source_change(
    services: Services, identity: AdminIdentity, registration_pk: int, form: SourceForm
) -> str:
    """Check the new settings (without saving them) and keep them for the confirmation page.
    An empty token keeps the stored one when the kind stays the same. Returns the change id."""
    registration = get_registration(services, identity, registration_pk)
    if form.kind not in SOURCE_KINDS:
        raise SetupError("bad_kind", BAD_KIND)
    current, current_token = _current(services, registration_pk)
    new_token = form.token.strip() or None
    token = new_token
    if form.kind not in TOKEN_KINDS:
        token = None
    url = form.endpoint_url.strip() if form.kind in TOKEN_KINDS else ""
    if form.kind == "moodle" and url:
        url = moodle_endpoint(url)  # the site's address will do
    if (
        token is None
        and form.kind in TOKEN_KINDS
        and current is not None
        and current.kind == form.kind
    ):
        # The stored token goes only where it went before: a new host must come with its
        # own token, or the token could be sent to a server of the editor's choosing.
        if _origin(url) != _origin(current.endpoint_url or ""):
            raise SetupError(
                "token_needed",
                "The address moves to another server: enter the token for that server "
                "(the stored one is only sent where it was sent before).",
            )
        token = current_token
    threshold = _threshold(form.ags_threshold)
    # The same checks as saving, in a transaction that is never committed.
    with services.db.read_only() as session:
        configure_source(
            session,
            services.secrets,
            registration.name,
            kind=form.kind,
            endpoint_url=url or None,
            token=token,
            mode=form.mode,
            ags_threshold=threshold,
            development=services.settings.is_development,
        )
    if form.kind == "moodle" and url and token:
        refuse_another_moodle(services, url, token, registration.issuer)
    change_id = secrets.token_urlsafe(18)
    services.store.put(
        CHANGE_KIND,
        change_id,
        {
            "registration_pk": registration_pk,
            "by": identity.label,
            "kind": form.kind,
            "endpoint_url": url or None,
            "token_sealed": services.secrets.seal(token) if token else None,
            "token_state": "none" if token is None else ("new" if new_token else "kept"),
            "mode": form.mode,
            "ags_threshold": threshold,
        },
        CHANGE_TTL_SECONDS,
    )
    return change_id


def _staged(
    services: Services, identity: AdminIdentity, registration_pk: int, change_id: str
) -> dict[str, Any]:
    data = services.store.get(CHANGE_KIND, change_id) if len(change_id) < 64 else None
    if (
        data is None
        or data.get("registration_pk") != registration_pk
        or data.get("by") != identity.label
    ):
        raise NotFound(
            "change_expired",
            "This change has expired or was already applied. Fill in the form again.",
        )
    return data


def staged_change(
    services: Services, identity: AdminIdentity, registration_pk: int, change_id: str
) -> StagedChange:
    """What the confirmation page shows: the current source and the staged one."""
    registration = get_registration(services, identity, registration_pk)
    data = _staged(services, identity, registration_pk, change_id)
    current, _ = _current(services, registration_pk)
    current_threshold = current.ags_threshold if current is not None else 0.5
    proposed = SourceSummary(
        kind=data["kind"],
        endpoint_url=data["endpoint_url"],
        token=data["token_state"],
        mode=data["mode"],
        ags_threshold=data["ags_threshold"]
        if data["ags_threshold"] is not None
        else current_threshold,
    )
    return StagedChange(change_id, registration_pk, registration.name, current, proposed)


def apply_source_change(
    services: Services, identity: AdminIdentity, registration_pk: int, change_id: str
) -> SourceSummary:
    """Save the staged change (once: a second submit finds it gone); audited with the token
    masked. Returns the new source, masked."""
    change = staged_change(services, identity, registration_pk, change_id)
    data = services.store.take(CHANGE_KIND, change_id)
    if data is None:
        raise NotFound("change_expired", "This change was already applied.")
    token = services.secrets.open(data["token_sealed"]) if data["token_sealed"] else None
    with services.db.unit_of_work() as session:
        configure_source(
            session,
            services.secrets,
            change.registration_name,
            kind=data["kind"],
            endpoint_url=data["endpoint_url"],
            token=token,
            mode=data["mode"],
            ags_threshold=data["ags_threshold"],
            development=services.settings.is_development,
        )
        record_admin_change(
            session,
            identity,
            action="completion_source.change",
            subject=registration_subject(registration_pk, "completion-source"),
            old=change.current.as_audit() if change.current else None,
            new=change.proposed.as_audit(),
        )
    services.registry_cache.clear()
    services.moodle_sites.clear()
    return change.proposed


def change_source(
    services: Services, identity: AdminIdentity, registration_pk: int, form: SourceForm
) -> SourceSummary:
    """Both steps at once, for the command line (its user confirmed by typing the command):
    the same checks, the same audit row as the page's form and confirmation."""
    change_id = stage_source_change(services, identity, registration_pk, form)
    return apply_source_change(services, identity, registration_pk, change_id)


def refuse_another_moodle(services: Services, endpoint_url: str, token: str, issuer: str) -> None:
    """Ask Moodle which site the web service belongs to (its ``siteurl``), and refuse it when
    that is not the platform's own (``issuer``, Moodle's wwwroot). When Moodle cannot say
    now (not answering, the token refused), the source may still be saved: every read checks
    before it reads (``lms/moodle/own_site.py``)."""
    timeout = services.settings.http_timeout_seconds
    client = MoodleWsClient(endpoint_url, token, services.lms_http, retries=0, timeout=timeout)
    try:
        client.check_own_site(issuer)
    except ForeignMoodleSite as exc:
        raise SetupError("foreign_moodle_site", exc.message) from None
    except SourceError:
        return


def check_moodle_service(
    services: Services, endpoint_url: str, token: str, issuer: str
) -> SiteInfo:
    """Ask the Moodle site whether the token's web service offers every function the tool
    calls and is the platform's own site (``issuer``); SourceError when not (or the site
    cannot be reached)."""
    client = MoodleWsClient(endpoint_url, token, services.lms_http)
    info = client.check_service()
    problem = foreign_site(info, issuer)
    if problem is not None:
        raise problem
    return info
