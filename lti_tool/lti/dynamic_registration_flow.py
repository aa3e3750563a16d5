"""LTI Dynamic Registration, the steps: fetch and check the platform's configuration, keep it
server-side while an admin confirms, register with the platform, store the registration.

Nothing the confirmation form carries is trusted but the id of the pending install (random,
single use, in the shared store) and its form token; the configuration, the registration token
and the list of existing registrations stay on the server between the two requests.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.errors import Forbidden, UpstreamError
from lti_tool.logs import log_event
from lti_tool.lti import registry
from lti_tool.lti.dynamic_registration import (
    WANTED_SCOPES,
    PlatformConfiguration,
    PlatformRefused,
    RegistrationRefused,
    RegistrationResult,
    ToolUrls,
    check_configuration_url,
    client_registration,
    custom_parameters,
    display_url,
    parse_platform_configuration,
    parse_registration_response,
    platform_words,
    registration_base_name,
    requested_scopes,
)
from lti_tool.persistence.models import Deployment, Registration
from lti_tool.settings import Settings

if TYPE_CHECKING:
    from lti_tool.container import Services

log = logging.getLogger("lti_tool.dynamic_registration")

PENDING_KIND = "dynreg"
# Moodle's registration token lives an hour; a pending install never outlives it.
PENDING_TTL_SECONDS = 3600
MAX_BODY_BYTES = 256 * 1024
_INSTALL_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class PendingInstall:
    """A checked configuration waiting for the admin's "Install"."""

    install_id: str
    config: PlatformConfiguration
    registration_token: str | None
    form_token: str
    # Registrations the tool already has for this issuer: installing needs a confirmation.
    existing: tuple[str, ...] = ()

    @property
    def scopes(self) -> list[str]:
        return requested_scopes(self.config)

    @property
    def scopes_not_offered(self) -> list[str]:
        return [scope for scope in WANTED_SCOPES if scope not in self.config.scopes_supported]

    @property
    def custom_parameters(self) -> dict[str, str]:
        return custom_parameters(self.config)

    def to_json(self) -> dict[str, Any]:
        return {
            "config": self.config.to_json(),
            "registration_token": self.registration_token,
            "form_token": self.form_token,
            "existing": list(self.existing),
        }

    @classmethod
    def from_json(cls, install_id: str, data: dict[str, Any]) -> PendingInstall:
        return cls(
            install_id=install_id,
            config=PlatformConfiguration.from_json(data["config"]),
            registration_token=data.get("registration_token"),
            form_token=str(data.get("form_token", "")),
            existing=tuple(data.get("existing", ())),
        )


@dataclass(frozen=True)
class InstallOutcome:
    """What happened, for the done page."""

    name: str
    config: PlatformConfiguration
    client_id: str
    deployment_id: str | None
    active: bool
    replaced: bool
    requested_scopes: tuple[str, ...]
    granted_scopes: tuple[str, ...] | None = field(default=None)

    @property
    def scopes_refused(self) -> list[str]:
        """Scopes asked for that the platform did not grant (it may narrow them)."""
        if self.granted_scopes is None:
            return []
        return [s for s in self.requested_scopes if s not in self.granted_scopes]

    @property
    def needs_attention(self) -> bool:
        """Something is left for an admin (approval, an unknown deployment, fewer scopes):
        the done page then stays open instead of closing the LMS's frame at once."""
        return not (self.active and self.deployment_id) or bool(self.scopes_refused)


def ensure_enabled(settings: Settings) -> str:
    """The dynamic registration mode; 403 when it is off."""
    mode = settings.dynamic_registration_mode
    if mode == "off":
        raise Forbidden(
            "dynamic_registration_off",
            "This tool does not accept Dynamic Registration. Ask its administrator to register "
            "your platform with `lti-tool platform add`.",
        )
    return mode


def _read_limited(response: requests.Response, url: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(16384):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PlatformRefused("answer_too_large", f"{display_url(url)} answered too much.")
        chunks.append(chunk)
    return b"".join(chunks)


def _exchange(
    http: requests.Session, method: str, url: str, token: str | None, payload: Any = None
) -> tuple[int, str, bytes]:
    """One call with the session's timeout, no redirects (they would carry the token away)
    and a size limit; returns status, content type and body."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if payload is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(payload)
    try:
        response = http.request(
            method, url, headers=headers, data=data, allow_redirects=False, stream=True
        )
        with response:
            body = _read_limited(response, url)
    except requests.Timeout as exc:
        raise UpstreamError(
            "platform_timeout", f"{display_url(url)} did not answer in time."
        ) from exc
    except requests.RequestException as exc:
        raise UpstreamError(
            "platform_unreachable",
            f"{display_url(url)} could not be reached ({exc.__class__.__name__}).",
        ) from exc
    return response.status_code, response.headers.get("Content-Type", ""), body


def fetch_configuration(
    http: requests.Session, url: str, token: str | None, *, development: bool
) -> PlatformConfiguration:
    """GET the platform's OpenID configuration (with the registration token as bearer: Canvas
    requires it, Moodle ignores it) and validate it."""
    url = check_configuration_url(url, development=development)
    status, content_type, body = _exchange(http, "GET", url, token)
    if status != 200:
        raise PlatformRefused(
            "configuration_refused",
            f"{display_url(url)} answered HTTP {status}: {platform_words(body, content_type)}",
        )
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise RegistrationRefused(
            "bad_configuration", f"{display_url(url)} did not answer with JSON."
        ) from exc
    return parse_platform_configuration(document, url, development=development)


def begin_install(
    services: Services, configuration_url: str, registration_token: str | None, form_token: str
) -> PendingInstall:
    """Check the platform's configuration and keep it for the confirmation POST."""
    settings = services.settings
    ensure_enabled(settings)
    config = fetch_configuration(
        services.http,
        configuration_url,
        registration_token or None,
        development=settings.is_development,
    )
    with services.db.read_only() as session:
        existing = tuple(
            session.scalars(
                select(Registration.name)
                .where(Registration.issuer == config.issuer)
                .order_by(Registration.name)
            )
        )
    pending = PendingInstall(
        install_id=secrets.token_urlsafe(24),
        config=config,
        registration_token=registration_token or None,
        form_token=form_token,
        existing=existing,
    )
    services.store.put(PENDING_KIND, pending.install_id, pending.to_json(), PENDING_TTL_SECONDS)
    return pending


def register_with_platform(
    http: requests.Session, config: PlatformConfiguration, token: str | None, body: dict[str, Any]
) -> RegistrationResult:
    """POST the client registration; the platform's refusal comes back in its own words."""
    status, content_type, answer = _exchange(
        http, "POST", config.registration_endpoint, token, payload=body
    )
    if status not in (200, 201):
        raise PlatformRefused(
            "registration_refused",
            f"{config.product} refused the registration (HTTP {status}): "
            f"{platform_words(answer, content_type)}",
        )
    try:
        parsed = json.loads(answer)
    except ValueError as exc:
        raise PlatformRefused(
            "bad_registration_response", "The platform's answer to the registration is not JSON."
        ) from exc
    return parse_registration_response(parsed)


def unique_name(session: Session, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``… whichever is free."""
    taken = set(
        session.scalars(select(Registration.name).where(Registration.name.like(base + "%")))
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def save_registration(
    session: Session,
    config: PlatformConfiguration,
    result: RegistrationResult,
    *,
    active: bool,
    replace: bool,
    development: bool,
) -> tuple[Registration, bool, bool]:
    """Store the registration and its deployment; returns it, whether an existing one with the
    same issuer + client_id was updated, and whether the deployment is active."""
    registration = registry.find_registration(session, config.issuer, result.client_id)
    replaced = registration is not None
    if registration is not None:
        if not replace:
            raise RegistrationRefused(
                "duplicate_registration",
                f"{config.product} issued client_id {result.client_id!r}, but the tool already "
                f"has a registration {registration.name!r} for that issuer and client_id. Start "
                "again from your LMS and confirm the replacement.",
                status=409,
            )
        registration.kind = config.kind
        registration.auth_login_url = config.authorization_endpoint
        registration.auth_token_url = config.token_endpoint
        registration.key_set_url = config.jwks_uri
    else:
        registration = registry.add_platform(
            session,
            registry.PlatformSpec(
                name=unique_name(session, registration_base_name(config)),
                issuer=config.issuer,
                client_id=result.client_id,
                auth_login_url=config.authorization_endpoint,
                auth_token_url=config.token_endpoint,
                key_set_url=config.jwks_uri,
                kind=config.kind,
            ),
            development=development,
        )
    deployment_active = False
    if result.deployment_id:
        deployment = registry.find_deployment(session, registration.id, result.deployment_id)
        if deployment is None:
            deployment = Deployment(
                registration_id=registration.id, deployment_id=result.deployment_id, active=active
            )
            session.add(deployment)
        elif active:
            deployment.active = True
        session.flush()
        deployment_active = deployment.active
    return registration, replaced, deployment_active


def load_pending(services: Services, install_id: str) -> PendingInstall:
    """The pending install the form names; expired or used ones are refused."""
    data = services.store.get(PENDING_KIND, install_id) if _INSTALL_ID.match(install_id) else None
    if data is None:
        raise RegistrationRefused(
            "install_expired",
            "This installation form has expired or was already used. Start again from your LMS.",
        )
    return PendingInstall.from_json(install_id, data)


def complete_install(
    services: Services, pending: PendingInstall, form_token: str, confirmed: bool
) -> InstallOutcome:
    """Register with the platform and store the result. The form token must be the one this
    install was shown with (it works without cookies, which an LMS iframe may not get)."""
    settings = services.settings
    mode = ensure_enabled(settings)
    install_id = pending.install_id
    if not hmac.compare_digest(form_token.encode(), pending.form_token.encode()):
        raise RegistrationRefused(
            "csrf",
            "The form's security token is missing or does not match. Start again from your LMS.",
        )
    if pending.existing and not confirmed:
        raise RegistrationRefused(
            "confirmation_required",
            "The tool already has a registration for this platform: tick the confirmation box "
            "to install another one (or to replace it), then press Install again.",
        )
    # Single use from here on: a double submit must not register twice.
    if services.store.take(PENDING_KIND, install_id) is None:
        raise RegistrationRefused(
            "install_expired", "This installation form was already used. Start again."
        )
    config = pending.config
    body = client_registration(config, ToolUrls.from_settings(settings))
    result = register_with_platform(services.http, config, pending.registration_token, body)
    with services.db.unit_of_work() as session:
        registration, replaced, active = save_registration(
            session,
            config,
            result,
            active=mode == "open",
            replace=confirmed,
            development=settings.is_development,
        )
        name = registration.name
    log_event(
        log,
        logging.INFO,
        "dynamic registration",
        registration=name,
        issuer=config.issuer,
        client_id=result.client_id,
        deployment_id=result.deployment_id,
        active=active,
        replaced=replaced,
    )
    return InstallOutcome(
        name=name,
        config=config,
        client_id=result.client_id,
        deployment_id=result.deployment_id,
        active=active,
        replaced=replaced,
        requested_scopes=tuple(pending.scopes),
        granted_scopes=result.granted_scopes,
    )
