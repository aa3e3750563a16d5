"""LTI Dynamic Registration, the steps: fetch and check the platform's configuration, keep it
server-side while an admin confirms, register with the platform, store the registration.

Nothing the confirmation form carries is trusted but the id of the pending install (random,
single use, in the shared store) and its form token; the configuration and the registration
token stay on the server between the two requests. The calls to the platform are in
``http``, what is stored in ``records``.

Whoever reaches ``/lti/register`` can run this flow, so it only ever creates a new
registration (inactive until approved in ``approve`` mode; its policy for new deployments
as ``records.new_deployments_policy`` says) and says nothing about the registrations the tool
already has; an answer naming an existing issuer + client_id is
refused and audited (``dynreg.refused``), a new registration audited (``dynreg.created``,
which also marks it as made here: ``records.awaiting_approval``).
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lti_tool.crypto import SecretUnreadable
from lti_tool.errors import Forbidden
from lti_tool.logs import log_event
from lti_tool.lti import claims as c
from lti_tool.lti.deployment_policy import ACCEPT, activation_command
from lti_tool.lti.dynreg.configuration import PlatformConfiguration, RegistrationRefused
from lti_tool.lti.dynreg.http import fetch_configuration, register_with_platform
from lti_tool.lti.dynreg.records import (
    CLIENT_IN_USE,
    REGISTRATION_EXISTS,
    InstallOutcome,
    audit_refusal,
    registration_facts,
    save_registration,
)
from lti_tool.lti.dynreg.request import (
    CUSTOM_VARIABLES,
    WANTED_SCOPES,
    ToolUrls,
    client_registration,
    custom_parameters,
    requested_scopes,
)
from lti_tool.lti.launch_checks import REGISTRATION_PAGE
from lti_tool.settings import Settings

if TYPE_CHECKING:
    from lti_tool.lti.collaborators import RegistrationParts

log = logging.getLogger("lti_tool.dynamic_registration")

PENDING_KIND = "dynreg"
# Moodle's registration token lives an hour; a pending install (kept for anyone who opens
# /lti/register) lasts long enough for an admin to read the form and press "Install".
PENDING_TTL_SECONDS = 1800
_INSTALL_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class PendingInstall:
    """A checked configuration waiting for the admin's "Install"."""

    install_id: str
    config: PlatformConfiguration
    registration_token: str | None
    form_token: str

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
        }

    @classmethod
    def from_json(cls, install_id: str, data: dict[str, Any]) -> PendingInstall:
        return cls(
            install_id=install_id,
            config=PlatformConfiguration.from_json(data["config"]),
            registration_token=data.get("registration_token"),
            form_token=str(data.get("form_token", "")),
        )


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
    services: RegistrationParts,
    configuration_url: str,
    registration_token: str | None,
    form_token: str,
) -> PendingInstall:
    """Check the platform's configuration and keep it for the confirmation POST."""
    settings = services.settings
    ensure_enabled(settings)
    config = fetch_configuration(
        services.registration_http,
        configuration_url,
        registration_token or None,
        development=settings.is_development,
    ).keeping_only(
        WANTED_SCOPES, CUSTOM_VARIABLES.values(), (c.RESOURCE_LINK_REQUEST, c.DEEP_LINKING_REQUEST)
    )
    pending = PendingInstall(
        install_id=secrets.token_urlsafe(24),
        config=config,
        registration_token=registration_token or None,
        form_token=form_token,
    )
    services.store.put(
        PENDING_KIND,
        pending.install_id,
        _seal_token(services, pending.to_json()),
        PENDING_TTL_SECONDS,
    )
    return pending


def load_pending(services: RegistrationParts, install_id: str) -> PendingInstall:
    """The pending install the form names; expired or used ones are refused."""
    data = services.store.get(PENDING_KIND, install_id) if _INSTALL_ID.match(install_id) else None
    if data is None:
        raise RegistrationRefused(
            "install_expired",
            "This installation form has expired or was already used. Start again from your LMS.",
        )
    return PendingInstall.from_json(install_id, _open_token(services, data))


def complete_install(
    services: RegistrationParts, pending: PendingInstall, form_token: str
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
    # Single use from here on: a double submit must not register twice.
    if services.store.take(PENDING_KIND, install_id) is None:
        raise RegistrationRefused(
            "install_expired", "This installation form was already used. Start again."
        )
    config = pending.config
    body = client_registration(config, ToolUrls.from_settings(settings))
    result = register_with_platform(
        services.registration_http, config, pending.registration_token, body
    )
    facts = registration_facts(config, result)
    try:
        with services.db.unit_of_work() as session:
            # Audited there (dynreg.created), in this transaction.
            registration, active = save_registration(
                session, config, result, mode=mode, development=settings.is_development
            )
            name, policy = registration.name, registration.new_deployments
            registration_pk = registration.id
    except RegistrationRefused as exc:
        if exc.code in (REGISTRATION_EXISTS, CLIENT_IN_USE):
            _audit_refusal(services, config, result.client_id, facts)
        raise
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
        # For the people who run the server; the done page names the admin page instead.
        command=_approval_command(name, result.deployment_id, active, policy),
    )
    return InstallOutcome(
        name=name,
        config=config,
        client_id=result.client_id,
        deployment_id=result.deployment_id,
        active=active,
        requested_scopes=tuple(pending.scopes),
        granted_scopes=result.granted_scopes,
        new_deployments=policy,
        admin_page=settings.url_for_tool(REGISTRATION_PAGE.format(pk=registration_pk)),
    )


def _approval_command(name: str, deployment_id: str | None, active: bool, policy: str) -> str:
    """The command that lets the new deployment in, when one is needed (else empty)."""
    if deployment_id and not active:
        return activation_command(name, deployment_id)
    if not deployment_id and policy != ACCEPT:
        return activation_command(name, "DEPLOYMENT_ID")
    return ""


def _audit_refusal(
    services: RegistrationParts,
    config: PlatformConfiguration,
    client_id: str,
    facts: dict[str, Any],
) -> None:
    """Record a refused attempt on an existing registration's client, in a transaction of its
    own (the install's was rolled back), under that registration so its admins see it."""
    with services.db.unit_of_work() as session:
        conflict = audit_refusal(session, config, client_id, facts)
    log_event(
        log,
        logging.WARNING,
        "dynamic registration refused",
        code=conflict.code if conflict else REGISTRATION_EXISTS,
        issuer=config.issuer,
        client_id=client_id,
        token_endpoint=config.token_endpoint,
        configuration_url=facts.get("configuration_url"),
    )


def _seal_token(services: RegistrationParts, data: dict[str, Any]) -> dict[str, Any]:
    """The platform's registration token is a credential: sealed while it waits in the store."""
    token = data.get("registration_token")
    return {**data, "registration_token": services.secrets.seal(token) if token else None}


def _open_token(services: RegistrationParts, data: dict[str, Any]) -> dict[str, Any]:
    token = data.get("registration_token")
    try:
        opened = services.secrets.open(token) if isinstance(token, str) and token else None
    except SecretUnreadable:
        raise RegistrationRefused(
            "install_expired",
            "This installation form has expired or was already used. Start again from your LMS.",
        ) from None
    return {**data, "registration_token": opened}
