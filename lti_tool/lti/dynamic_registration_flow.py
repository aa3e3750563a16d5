"""LTI Dynamic Registration, the steps: fetch and check the platform's configuration, keep it
server-side while an admin confirms, register with the platform, store the registration.

Nothing the confirmation form carries is trusted but the id of the pending install (random,
single use, in the shared store) and its form token; the configuration, the registration token
and the list of existing registrations stay on the server between the two requests. The calls
to the platform are in ``dynamic_registration_http``, what is stored in
``dynamic_registration_records``.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from lti_tool.crypto import SecretUnreadable
from lti_tool.errors import Forbidden
from lti_tool.logs import log_event
from lti_tool.lti.dynamic_registration import PlatformConfiguration, RegistrationRefused
from lti_tool.lti.dynamic_registration_http import fetch_configuration, register_with_platform
from lti_tool.lti.dynamic_registration_records import save_registration
from lti_tool.lti.dynamic_registration_request import (
    WANTED_SCOPES,
    ToolUrls,
    client_registration,
    custom_parameters,
    requested_scopes,
)
from lti_tool.persistence.models import Registration
from lti_tool.settings import Settings

if TYPE_CHECKING:
    from lti_tool.container import Services

log = logging.getLogger("lti_tool.dynamic_registration")

PENDING_KIND = "dynreg"
# Moodle's registration token lives an hour; a pending install never outlives it.
PENDING_TTL_SECONDS = 3600
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
    services.store.put(
        PENDING_KIND,
        pending.install_id,
        _seal_token(services, pending.to_json()),
        PENDING_TTL_SECONDS,
    )
    return pending


def load_pending(services: Services, install_id: str) -> PendingInstall:
    """The pending install the form names; expired or used ones are refused."""
    data = services.store.get(PENDING_KIND, install_id) if _INSTALL_ID.match(install_id) else None
    if data is None:
        raise RegistrationRefused(
            "install_expired",
            "This installation form has expired or was already used. Start again from your LMS.",
        )
    return PendingInstall.from_json(install_id, _open_token(services, data))


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
    # The new platform may frame the tool and launch at once (this worker; others within the
    # cache's few seconds).
    services.registry_cache.clear()
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


def _seal_token(services: Services, data: dict[str, Any]) -> dict[str, Any]:
    """The platform's registration token is a credential: sealed while it waits in the store."""
    token = data.get("registration_token")
    return {**data, "registration_token": services.secrets.seal(token) if token else None}


def _open_token(services: Services, data: dict[str, Any]) -> dict[str, Any]:
    token = data.get("registration_token")
    try:
        opened = services.secrets.open(token) if isinstance(token, str) and token else None
    except SecretUnreadable:
        raise RegistrationRefused(
            "install_expired",
            "This installation form has expired or was already used. Start again from your LMS.",
        ) from None
    return {**data, "registration_token": opened}
