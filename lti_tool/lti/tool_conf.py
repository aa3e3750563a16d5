"""pylti1p3 tool configuration backed by the registry tables.

pylti1p3 ships JSON-file and dict configurations only. Like django-lti, this one looks
registrations up by issuer + client_id (``check_iss_has_one_client`` is always False), so
several institutions can share Canvas's single issuer.
"""

from __future__ import annotations

from typing import Any

from pylti1p3.deployment import Deployment as PyltiDeployment
from pylti1p3.registration import Registration as PyltiRegistration
from pylti1p3.tool_config.abstract import ToolConfAbstract

from lti_tool.lti.registry_cache import RegistrationRow, RegistryCache
from lti_tool.persistence.db import Database


class ToolConf(ToolConfAbstract):  # type: ignore[type-arg]
    """Finds registrations in the database; remembers the one it found for the caller."""

    def __init__(
        self,
        db: Database,
        cache: RegistryCache,
        registration_pk: int | None = None,
    ) -> None:
        # Launches need no private key; service calls sign through lti/platform_services.py.
        self._db = db
        self._cache = cache
        self.registration_pk = registration_pk
        self.found: RegistrationRow | None = None
        self.miss_reason: str | None = None

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Any:
        return self.find_registration_by_params(iss, None)

    def find_registration_by_params(  # type: ignore[override]
        self, iss: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> PyltiRegistration | None:
        found = self._cache.registration(iss, client_id or None, self.registration_pk)
        if found is None:
            self.miss_reason = _miss_reason(iss, client_id, self.registration_pk)
            return None
        self.found = found
        registration = (
            PyltiRegistration()
            .set_issuer(found.issuer)
            .set_client_id(found.client_id)
            .set_auth_login_url(found.auth_login_url)
            .set_auth_token_url(found.auth_token_url)
            .set_key_set_url(found.key_set_url)
        )
        if found.auth_audience:
            registration.set_auth_audience(found.auth_audience)
        return registration

    def find_deployment(self, iss: str, deployment_id: str) -> PyltiDeployment | None:
        return self.find_deployment_by_params(iss, deployment_id, "")

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> PyltiDeployment | None:
        reg = self._cache.registration(iss, client_id or None, self.registration_pk)
        if reg is None or self._cache.active_deployment_pk(reg.pk, deployment_id) is None:
            return None
        return PyltiDeployment().set_deployment_id(deployment_id)


def _miss_reason(iss: str, client_id: str | None, registration_pk: int | None) -> str:
    if client_id:
        return (
            f"No platform is registered with issuer {iss!r} and client_id {client_id!r}. "
            "The tool's administrator must register it "
            "(admin pages: Registrations, Add a platform)."
        )
    if registration_pk is not None:
        return f"Registration {registration_pk} does not exist or has another issuer than {iss!r}."
    return (
        f"The platform {iss!r} sent no client_id and is registered zero or several times; use "
        "the login URL that names the registration (/lti/login/<id>) or send client_id."
    )
