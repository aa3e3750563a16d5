"""LTI 1.3 claim vocabulary and role normalisation. Pure: standard library only."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
TARGET_LINK_URI = LTI + "target_link_uri"
RESOURCE_LINK = LTI + "resource_link"
ROLES = LTI + "roles"
CONTEXT = LTI + "context"
CUSTOM = LTI + "custom"
LIS = LTI + "lis"
TOOL_PLATFORM = LTI + "tool_platform"
LAUNCH_PRESENTATION = LTI + "launch_presentation"
FOR_USER = LTI + "for_user"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
# LTI Course Groups service (tutor groups).
GROUPS_SERVICE = "https://purl.imsglobal.org/spec/lti-gs/claim/groupsservice"
GROUPS_SCOPE = "https://purl.imsglobal.org/spec/lti-gs/scope/contextgroup.readonly"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

LTI_VERSION = "1.3.0"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DATA_PRIVACY_REQUESTS = frozenset({"DataPrivacyLaunchRequest", "LtiDataPrivacyLaunchRequest"})
SUBMISSION_REVIEW_REQUEST = "LtiSubmissionReviewRequest"
KNOWN_MESSAGE_TYPES = frozenset(
    {RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST, SUBMISSION_REVIEW_REQUEST} | DATA_PRIVACY_REQUESTS
)

_MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
_INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
_SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"

STAFF_ROLE_NAMES = frozenset(
    {"Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator"}
)
ADMIN_ROLE_NAMES = frozenset({"Administrator", "SysAdmin"})
STUDENT_ROLE_NAMES = frozenset({"Learner", "Student"})


class Audience(enum.StrEnum):
    """Which view a launch opens."""

    STAFF = "staff"
    STUDENT = "student"


@dataclass(frozen=True)
class NormalisedRoles:
    """Roles as the rest of the tool uses them, derived from a validated launch only."""

    raw: tuple[str, ...]
    names: frozenset[str]
    audience: Audience
    is_admin: bool  # an institution or system Administrator of the platform
    limited: bool  # empty or only unknown roles: student view with limited data

    @property
    def is_staff(self) -> bool:
        return self.audience is Audience.STAFF


def role_name(role: str) -> tuple[str, str]:
    """Split a role URI or short name into (vocabulary, name).

    ``membership#Instructor`` → ("membership", "Instructor"); a sub-role such as
    ``membership/Instructor#TeachingAssistant`` → ("membership", "TeachingAssistant");
    ``Learner`` → ("membership", "Learner") since short names are context roles.
    """
    role = role.strip()
    if role.startswith(_MEMBERSHIP):
        return "membership", role[len(_MEMBERSHIP) :]
    if role.startswith(_INSTITUTION):
        return "institution", role[len(_INSTITUTION) :]
    if role.startswith(_SYSTEM):
        return "system", role[len(_SYSTEM) :]
    if role.startswith("http://purl.imsglobal.org/vocab/lis/v2/membership/") and "#" in role:
        return "membership", role.rsplit("#", 1)[1]
    if "://" in role:
        return "unknown", role
    return "membership", role


def normalise_roles(roles: Iterable[Any]) -> NormalisedRoles:
    """Map launch roles onto the tool's two views.

    Instructor, TeachingAssistant, ContentDeveloper and Administrator (context, institution or
    system) give the staff view; Learner the student view; an empty list or only unknown roles
    give the student view with limited data.
    """
    raw = tuple(str(r) for r in roles if isinstance(r, str))
    names: set[str] = set()
    is_admin = False
    for role in raw:
        vocabulary, name = role_name(role)
        if vocabulary == "unknown":
            continue
        # Only the platform's own administrators (institution or system roles) may run the
        # tool's admin pages or act for another person; a course-level Administrator is staff.
        if name in ADMIN_ROLE_NAMES and vocabulary in {"institution", "system"}:
            is_admin = True
        if vocabulary == "membership" or name in ADMIN_ROLE_NAMES:
            names.add(name)
        elif vocabulary == "institution" and name in {"Instructor", "Faculty"}:
            names.add("Instructor")
        elif vocabulary == "institution" and name in STUDENT_ROLE_NAMES:
            names.add("Learner")
    staff = bool(names & STAFF_ROLE_NAMES) or is_admin
    known = bool(names & (STAFF_ROLE_NAMES | STUDENT_ROLE_NAMES)) or is_admin
    return NormalisedRoles(
        raw=raw,
        names=frozenset(names),
        audience=Audience.STAFF if staff else Audience.STUDENT,
        is_admin=is_admin,
        limited=not known,
    )


def client_id_of(claims: Mapping[str, Any]) -> str | None:
    """The client the token was issued to: ``azp`` when present, else a single ``aud``."""
    azp = claims.get("azp")
    if isinstance(azp, str) and azp:
        return azp
    aud = claims.get("aud")
    if isinstance(aud, str):
        return aud or None
    if isinstance(aud, list) and len(aud) == 1 and isinstance(aud[0], str):
        return aud[0] or None
    return None
