"""What a launch session grants, typed: who launched, in which course, from which platform,
and which of the platform's services the launch offered.

A launch session is kept as JSON in the shared store (lti/sessions.py): ``to_json`` writes it
with ``launch_format``, ``from_json`` reads it back. A session written in another shape (the
loose dict of earlier versions) reads as None: the user is asked to launch again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

LAUNCH_FORMAT = 2


@dataclass(frozen=True)
class LaunchUser:
    pk: int
    sub: str
    name: str | None
    email: str | None


@dataclass(frozen=True)
class LaunchRoles:
    """The launch's roles, as sent (``raw``) and as the tool reads them
    (``claims.normalise_roles``)."""

    raw: tuple[str, ...]
    names: tuple[str, ...]
    is_staff: bool
    is_admin: bool
    # No role the tool recognises: the student view with limited data.
    limited: bool


@dataclass(frozen=True)
class LaunchCourse:
    """The LTI context (the course) the launch came from."""

    pk: int
    id: str
    title: str | None
    label: str | None


@dataclass(frozen=True)
class LaunchRegistration:
    pk: int
    name: str
    issuer: str
    client_id: str
    deployment_pk: int
    deployment_id: str


@dataclass(frozen=True)
class LaunchServices:
    """The platform services the launch offered (names and roles, assignment and grade)."""

    nrps_url: str | None = None
    ags_lineitems: str | None = None
    ags_lineitem: str | None = None
    ags_scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Launch:
    """A validated, recorded launch, as the views and services see it."""

    user: LaunchUser
    roles: LaunchRoles
    context: LaunchCourse | None
    resource_link_pk: int | None
    registration: LaunchRegistration
    message_type: str | None
    # Which launch a page belongs to when one browser holds several (web/page_binding.py),
    # and when it was made, in nanoseconds (orders one browser's launches).
    binding_id: str
    bound_at: int
    launched_at: int
    # How the login state was bound to the browser: "cookie" or "platform_storage" (the
    # browser keeps no cookies for the tool in this frame: pages carry the launch token).
    binding: str = "cookie"
    services: LaunchServices = field(default_factory=LaunchServices)
    custom: Mapping[str, str] = field(default_factory=dict)
    locale: str | None = None
    return_url: str | None = None
    target_link_uri: str = ""
    deep_linking_settings: Mapping[str, Any] | None = None
    for_user: Mapping[str, Any] | None = None

    @property
    def user_pk(self) -> int:
        return self.user.pk

    @property
    def sub(self) -> str:
        return self.user.sub

    @property
    def is_staff(self) -> bool:
        return self.roles.is_staff

    @property
    def is_admin(self) -> bool:
        return self.roles.is_admin

    @property
    def context_pk(self) -> int | None:
        return self.context.pk if self.context is not None else None

    def to_json(self) -> dict[str, Any]:
        """The session as stored (plain JSON values)."""
        data = asdict(self)
        data["custom"] = dict(self.custom)
        data["launch_format"] = LAUNCH_FORMAT
        return data

    @classmethod
    def from_json(cls, data: Any) -> Launch | None:
        """The launch ``to_json`` wrote; None for anything else (an older format, a damaged
        or foreign value)."""
        if not isinstance(data, Mapping) or data.get("launch_format") != LAUNCH_FORMAT:
            return None
        try:
            return cls._parse(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    @classmethod
    def _parse(cls, data: Mapping[str, Any]) -> Launch:
        roles, services, context = data["roles"], data["services"], data["context"]
        return cls(
            user=LaunchUser(**data["user"]),
            roles=LaunchRoles(
                raw=tuple(str(r) for r in roles["raw"]),
                names=tuple(str(n) for n in roles["names"]),
                is_staff=bool(roles["is_staff"]),
                is_admin=bool(roles["is_admin"]),
                limited=bool(roles["limited"]),
            ),
            context=LaunchCourse(**context) if context is not None else None,
            resource_link_pk=_optional_int(data["resource_link_pk"]),
            registration=LaunchRegistration(**data["registration"]),
            message_type=data["message_type"],
            binding_id=str(data["binding_id"]),
            bound_at=int(data["bound_at"]),
            launched_at=int(data["launched_at"]),
            binding=str(data["binding"]),
            services=LaunchServices(
                nrps_url=services["nrps_url"],
                ags_lineitems=services["ags_lineitems"],
                ags_lineitem=services["ags_lineitem"],
                ags_scopes=tuple(str(s) for s in services["ags_scopes"]),
            ),
            custom={str(k): str(v) for k, v in data["custom"].items()},
            locale=data["locale"],
            return_url=data["return_url"],
            target_link_uri=str(data["target_link_uri"]),
            deep_linking_settings=_optional_mapping(data["deep_linking_settings"]),
            for_user=_optional_mapping(data["for_user"]),
        )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _optional_mapping(value: Any) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError("not an object")
    return value


def session_user_pk(data: Any) -> int | None:
    """The user a stored session belongs to, in this format or the one before (erasure ends
    a person's sessions whatever their shape: they hold the name and email)."""
    if not isinstance(data, Mapping):
        return None
    user = data.get("user")
    value = user.get("pk") if isinstance(user, Mapping) else data.get("user_pk")
    return value if isinstance(value, int) else None
