"""What the two summary pages show, each gathered by one call: the dashboard and a
registration's page."""

from __future__ import annotations

from dataclasses import dataclass

from lti_tool.admin.health import HealthReport, health_report
from lti_tool.admin.identity import AdminIdentity
from lti_tool.admin.keys import list_keys
from lti_tool.admin.mapping import MappingView, mapping_view
from lti_tool.admin.platforms import RegistrationView, get_registration, list_registrations
from lti_tool.admin.sources import SourceSummary, source_summary
from lti_tool.container import Services
from lti_tool.lti.keys import KeyInfo


@dataclass(frozen=True)
class Dashboard:
    registrations: list[RegistrationView]
    active_key: KeyInfo | None
    # A key a routine rotation published that has not begun signing yet.
    pending_key: KeyInfo | None
    health: HealthReport


@dataclass(frozen=True)
class RegistrationDetail:
    registration: RegistrationView
    source: SourceSummary | None
    mapping: MappingView


def dashboard(services: Services, identity: AdminIdentity) -> Dashboard:
    """The admin's registrations (with deployments waiting for approval), the active signing
    key (and a pending one) and the health checks."""
    keys = list_keys(services)
    return Dashboard(
        registrations=list_registrations(services, identity),
        active_key=next((k for k in keys if k.is_signing), None),
        pending_key=next((k for k in keys if k.is_pending), None),
        health=health_report(services, identity),
    )


def registration_detail(
    services: Services, identity: AdminIdentity, registration_pk: int
) -> RegistrationDetail:
    """One registration in scope with its deployments, completion source and mapping."""
    return RegistrationDetail(
        registration=get_registration(services, identity, registration_pk),
        source=source_summary(services, identity, registration_pk),
        mapping=mapping_view(services, identity, registration_pk),
    )
