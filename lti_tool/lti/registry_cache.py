"""A short per-process memory of registrations and active deployments.

Every login and launch needs them; reading them from the database each time was a third of
a launch's cost. Entries live ``ttl`` seconds, so an admin's change (deactivating a deployment,
editing a registration) takes effect everywhere within that time; in the process that made the
change at once, since every change clears the cache (``clear``), and a value read before a
``clear`` is not kept after it. Unknown and inactive deployments are never remembered:
activating one, or accepting a new one on its first launch, works at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from lti_tool.lti import registry
from lti_tool.persistence.db import Database
from lti_tool.urls import web_origin

T = TypeVar("T")


@dataclass(frozen=True)
class RegistrationRow:
    pk: int
    name: str
    kind: str
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    auth_audience: str | None
    key_set_url: str


def platform_origins(kind: str, issuer: str, auth_login_url: str) -> tuple[str, ...]:
    """Where a platform's pages live: its issuer's and auth endpoint's origins, and Canvas's
    institution domains."""
    origins: list[str] = []
    for url in (issuer, auth_login_url):
        origin = web_origin(url or "")
        if origin is not None:
            origins.append(origin)
    if kind == "canvas":
        origins += ["https://*.instructure.com", "https://*.canvaslms.com"]
    return tuple(dict.fromkeys(origins))


class RegistryCache:
    def __init__(self, db: Database, ttl: float = 10.0) -> None:
        self._db = db
        self._ttl = ttl
        self._entries: dict[tuple[object, ...], tuple[float, object]] = {}
        self._lock = threading.Lock()
        # Bumped by ``clear``: a value loaded across a clear may predate the change.
        self._generation = 0

    def _remembered(self, key: tuple[object, ...], load: Callable[[Session], T | None]) -> T | None:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            generation = self._generation
        if hit is not None and hit[0] > now:
            return hit[1]  # type: ignore[return-value]
        with self._db.read_only() as session:
            value = load(session)
        if value is not None:
            with self._lock:
                if generation == self._generation:
                    self._entries[key] = (now + self._ttl, value)
        return value

    def registration(
        self, issuer: str, client_id: str | None, registration_pk: int | None
    ) -> RegistrationRow | None:
        """As ``registry.find_registration``, remembered for ``ttl`` seconds."""

        def load(session: Session) -> RegistrationRow | None:
            row = registry.find_registration(session, issuer, client_id, registration_pk)
            if row is None:
                return None
            return RegistrationRow(
                pk=row.id,
                name=row.name,
                kind=row.kind,
                issuer=row.issuer,
                client_id=row.client_id,
                auth_login_url=row.auth_login_url,
                auth_token_url=row.auth_token_url,
                auth_audience=row.auth_audience,
                key_set_url=row.key_set_url,
            )

        return self._remembered(("reg", issuer, client_id, registration_pk), load)

    def active_deployment_pk(self, registration_pk: int, deployment_id: str) -> int | None:
        """The deployment's primary key when it exists and is active; None otherwise."""

        def load(session: Session) -> int | None:
            row = registry.find_deployment(session, registration_pk, deployment_id)
            return row.id if row is not None and row.active else None

        return self._remembered(("dep", registration_pk, deployment_id), load)

    def has_completion_source(self, registration_pk: int) -> bool:
        """Whether the registration reads completion from its LMS (cached like the rest)."""
        from lti_tool.persistence.models import CompletionSourceConfig

        def load(session: Session) -> bool:
            row = session.get(CompletionSourceConfig, registration_pk)
            return row is not None and row.kind != "manual"

        return bool(self._remembered(("src", registration_pk), load))

    def frame_origins(self) -> tuple[str, ...]:
        """Origins of the ACTIVE registrations (at least one active deployment), which may
        frame the tool and receive its forms: each platform's own origin (Moodle's wwwroot,
        the sandbox), Canvas's institution domains, and the auth endpoints' origins. A
        registration waiting for approval, or deactivated, is not among them."""
        from sqlalchemy import select

        from lti_tool.persistence.models import Deployment, Registration

        def load(session: Session) -> tuple[str, ...]:
            origins: set[str] = set()
            active = select(Deployment.registration_id).where(Deployment.active)
            for kind, issuer, login_url in session.execute(
                select(Registration.kind, Registration.issuer, Registration.auth_login_url).where(
                    Registration.id.in_(active)
                )
            ):
                origins.update(platform_origins(kind, issuer, login_url))
            return tuple(sorted(origins))

        return self._remembered(("frames",), load) or ()

    def last_frame_origins(self) -> tuple[str, ...]:
        """``frame_origins`` as last read, however old, without the database (for the
        answers given while it is down); none if never read."""
        with self._lock:
            hit = self._entries.get(("frames",))
        return hit[1] if hit is not None else ()  # type: ignore[return-value]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1
