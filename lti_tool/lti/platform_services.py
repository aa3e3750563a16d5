"""Service connectors for a registration, signed with the tool's active key."""

from __future__ import annotations

from pylti1p3.registration import Registration as PyltiRegistration
from sqlalchemy import select

from lti_tool.errors import ToolError
from lti_tool.lti.collaborators import ServiceCallParts
from lti_tool.lti.keys import active_signing_key, private_pem
from lti_tool.lti.service_client import ToolServiceConnector
from lti_tool.outbound.policy import parse_allowed_hosts
from lti_tool.outbound.retry import Backoff
from lti_tool.persistence.models import Registration


def service_connector(
    services: ServiceCallParts, registration_pk: int, token_scopes: frozenset[str] | None = None
) -> ToolServiceConnector:
    """A connector for NRPS/AGS calls to the platform of ``registration_pk``; with
    ``token_scopes`` (what the platform granted) one token serves every call."""
    with services.db.read_only() as session:
        row = session.scalar(select(Registration).where(Registration.id == registration_pk))
        key = active_signing_key(session)
        if row is None or key is None:
            raise ToolError("no_registration", "The platform or the tool's key is missing.")
        registration = (
            PyltiRegistration()
            .set_issuer(row.issuer)
            .set_client_id(row.client_id)
            .set_auth_token_url(row.auth_token_url)
            .set_auth_login_url(row.auth_login_url)
            .set_key_set_url(row.key_set_url)
        )
        if row.auth_audience:
            registration.set_auth_audience(row.auth_audience)
        kid, pem, kind = key.kid, private_pem(key, services.secrets), row.kind
    return ToolServiceConnector(
        registration,
        registration_pk=registration_pk,
        kid=kid,
        private_pem=pem,
        store=services.store,
        secrets=services.secrets,
        http=services.lms_http,
        token_scopes=token_scopes,
        # Calls after a verified launch (staff, background jobs): bounded retries allowed.
        backoff=Backoff(retries=services.settings.http_retries, base=0.3, cap=5.0),
        kind=kind,
        extra_hosts=parse_allowed_hosts(services.settings.outbound_allowed_hosts)[0],
        newer_key=lambda kid: _newer_key(services, kid),
    )


def _newer_key(services: ServiceCallParts, kid: str) -> tuple[str, str] | None:
    """The key that signs now, if it is not ``kid`` (an emergency rotation since)."""
    with services.db.read_only() as session:
        key = active_signing_key(session)
        if key is None or key.kid == kid:
            return None
        return key.kid, private_pem(key, services.secrets)
