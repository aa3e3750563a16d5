"""What each part of ``lti/`` needs from the application, as narrow protocols.

``container.Services`` satisfies every one of them structurally; ``lti/`` annotates with these
and never imports the container (which wires ``lti/`` together with the pathway, the LMS
clients and the jobs that sit on top of it).
"""

from __future__ import annotations

from typing import Protocol

from lti_tool.crypto import SecretBox
from lti_tool.lti.platform_keys import PlatformKeys
from lti_tool.lti.registry_cache import RegistryCache
from lti_tool.lti.store import EphemeralStore
from lti_tool.outbound.http import OutboundSession
from lti_tool.persistence.db import Database
from lti_tool.settings import Settings


class StoreParts(Protocol):
    """Short-lived values in the shared store (login state, browser binding, sessions)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> EphemeralStore: ...


class LoginParts(StoreParts, Protocol):
    """The OIDC login and the cookie check before it: registrations and the store."""

    @property
    def db(self) -> Database: ...

    @property
    def registry_cache(self) -> RegistryCache: ...


class LaunchParts(LoginParts, Protocol):
    """Validating a launch (the platform's keys too) and opening its session."""

    @property
    def platform_keys(self) -> PlatformKeys: ...


class SigningParts(StoreParts, Protocol):
    """Messages the tool signs with its own key (the Deep Linking response)."""

    @property
    def db(self) -> Database: ...

    @property
    def secrets(self) -> SecretBox: ...


class ServiceCallParts(SigningParts, Protocol):
    """Calls to a platform's LTI services (NRPS, AGS, groups) after a verified launch."""

    @property
    def lms_http(self) -> OutboundSession: ...


class RegistrationParts(SigningParts, Protocol):
    """LTI Dynamic Registration: its own outbound client (public addresses only) and the
    registry it adds to."""

    @property
    def registry_cache(self) -> RegistryCache: ...

    @property
    def registration_http(self) -> OutboundSession: ...
