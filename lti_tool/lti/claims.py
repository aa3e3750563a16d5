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
# The custom parameters a resource link carries for everyone who opens it (a Deep Linking
# item's ``view`` and ``module``, a placement's ``qualification``): the only ones its stored
# row keeps. Others may be filled in for the launcher alone ($Canvas.user.id).
LINK_CUSTOM = frozenset({"view", "module", "qualification"})
LIS = LTI + "lis"
TOOL_PLATFORM = LTI + "tool_platform"
LAUNCH_PRESENTATION = LTI + "launch_presentation"
FOR_USER = LTI + "for_user"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
# LTI Course Groups service (tutor groups).
GROUPS_SERVICE = "https://purl.imsglobal.org/spec/lti-gs/claim/groupsservice"
GROUPS_SCOPE = "https://purl.imsglobal.org/spec/lti-gs/scope/contextgroup.readonly"
# OAuth scopes of the LTI services (AGS and NRPS), the one place they are spelled out.
AGS_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPE_LINEITEM = AGS_SCOPE + "lineitem"
SCOPE_LINEITEM_READ = AGS_SCOPE + "lineitem.readonly"
SCOPE_SCORE = AGS_SCOPE + "score"
SCOPE_RESULT = AGS_SCOPE + "result.readonly"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

LTI_VERSION = "1.3.0"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DATA_PRIVACY_REQUESTS = frozenset({"DataPrivacyLaunchRequest", "LtiDataPrivacyLaunchRequest"})
SUBMISSION_REVIEW_REQUEST = "LtiSubmissionReviewRequest"
KNOWN_MESSAGE_TYPES = frozenset(
    {RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST, SUBMISSION_REVIEW_REQUEST} | DATA_PRIVACY_REQUESTS
)

_LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
_MEMBERSHIP = _LIS + "membership#"
_MEMBERSHIP_SUB = _LIS + "membership/"  # sub-roles: membership/{principal}#{sub-role}
_INSTITUTION = _LIS + "institution/person#"
_SYSTEM = _LIS + "system/person#"
_PERSON = _LIS + "person#"  # deprecated spelling of institution and system roles

# The principal context roles of LTI 1.3 Core, appendix A.2.3 (the spec lets platforms send
# them as simple names too: "Instructor" for membership#Instructor).
CONTEXT_ROLE_NAMES = frozenset(
    {
        "Administrator",
        "ContentDeveloper",
        "Instructor",
        "Learner",
        "Mentor",
        "Manager",
        "Member",
        "Officer",
    }
)
# Staff are those who teach or build the course: Instructor (with every sub-role, e.g. the
# TeachingAssistant and Grader sub-roles), ContentDeveloper and a course-level Administrator.
# Mentor is not staff: Canvas sends it for observers (parents, advisors).
STAFF_CONTEXT_ROLES = frozenset({"Instructor", "ContentDeveloper", "Administrator"})
STUDENT_CONTEXT_ROLES = frozenset({"Learner"})
# Simple names some platforms send for a sub-role without its principal role.
_SIMPLE_SUB_ROLES = {"TeachingAssistant": "Instructor", "Grader": "Instructor"}
# Institution roles say what someone is somewhere in the institution, not in this course (LTI
# 1.3 Core A.2.2; Canvas sends them from enrolments anywhere in the account): they never give
# staff rights in a course. Only a context role does (Core A.2.3), or the platform's own
# Administrator (``is_admin``). A student institution role counts as Learner when the launch
# carries no course role at all.
# LTI 1.1 context roles, which some platforms still send in 1.3 launches.
_LTI11_CONTEXT = "urn:lti:role:ims/lis/"
# Simple names that are course roles though the tool does not map them (older spellings and
# LMS words for a course member); other simple names stay unknown.
_SIMPLE_COURSE_ROLE_WORDS = frozenset({"Student", "Observer", "Guest", "Teacher"})
STUDENT_INSTITUTION_ROLES = frozenset({"Learner", "Student"})
# Institution roles of people who teach somewhere in the institution (no staff right here).
INSTITUTION_STAFF_ROLES = frozenset({"Instructor", "Faculty"})
ADMIN_ROLE_NAMES = frozenset({"Administrator", "SysAdmin"})


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
    # an institution Instructor or Faculty role and no course role: not staff of the course,
    # nor one of its students
    institution_staff_only: bool = False

    @property
    def is_staff(self) -> bool:
        return self.audience is Audience.STAFF

    @property
    def is_learner(self) -> bool:
        """A student of the course, listed, refreshed and graded as one: Learner, or no course
        role the tool knows (the limited view). Not staff, and not someone whose only course
        roles are Mentor (Canvas's observers: parents, advisors), Manager, Member or Officer,
        nor someone with only an institution Instructor or Faculty role."""
        return (
            not self.is_staff
            and not self.institution_staff_only
            and ("Learner" in self.names or not self.names & CONTEXT_ROLE_NAMES)
        )


def role_name(role: str) -> tuple[str, str]:
    """Split a role URI or simple name into (vocabulary, principal role).

    ``membership#Instructor`` → ("membership", "Instructor"); a sub-role takes its principal
    role: ``membership/Instructor#TeachingAssistant`` → ("membership", "Instructor") and
    ``membership/Learner#Instructor`` → ("membership", "Learner"). Simple names are context
    roles: ``Learner`` → ("membership", "Learner"). Anything else is ("unknown", role).
    """
    role = role.strip()
    if role.startswith(_MEMBERSHIP):
        vocabulary, name = "membership", role[len(_MEMBERSHIP) :]
    elif role.startswith(_MEMBERSHIP_SUB) and "#" in role:
        vocabulary, name = "membership", role[len(_MEMBERSHIP_SUB) :].split("#", 1)[0]
    elif role.startswith(_INSTITUTION):
        return "institution", role[len(_INSTITUTION) :]
    elif role.startswith(_SYSTEM):
        return "system", role[len(_SYSTEM) :]
    elif role.startswith(_PERSON):
        name = role[len(_PERSON) :]
        return ("system" if name == "SysAdmin" else "institution"), name
    elif "://" in role or ":" in role:
        return "unknown", role
    else:
        # A simple name, or a simple sub-role such as "Instructor#TeachingAssistant".
        name = role.split("#", 1)[0]
        name = _SIMPLE_SUB_ROLES.get(name, name)
        vocabulary = "membership"
    if name not in CONTEXT_ROLE_NAMES:
        return "unknown", role
    return vocabulary, name


def is_course_role(role: str) -> bool:
    """Whether ``role`` says something about this course, recognised by the tool or not: any
    role of the membership vocabulary, an LTI 1.1 context role, a context role's simple name.
    Such a role keeps the institution roles out (they describe the person elsewhere)."""
    role = role.strip()
    if role.startswith((_MEMBERSHIP, _MEMBERSHIP_SUB, _LTI11_CONTEXT)):
        return True
    if ":" in role:
        return False
    name = role.split("#", 1)[0]
    return (
        name in CONTEXT_ROLE_NAMES or name in _SIMPLE_SUB_ROLES or name in _SIMPLE_COURSE_ROLE_WORDS
    )


def normalise_roles(roles: Iterable[Any]) -> NormalisedRoles:
    """Map launch roles onto the tool's two views; the one place that decides who is staff.

    Staff: a context role of Instructor (any sub-role), ContentDeveloper or Administrator, or
    an institution or system Administrator (``is_admin``). Student: Learner. An institution
    Instructor or Faculty role alone is no staff right in the course (it says what the person
    is elsewhere in the institution); an institution Student/Learner counts as Learner only
    when the launch has no course role at all, not even one the tool does not recognise
    (``is_course_role``). An empty list or only unknown roles give the student view with
    limited data.
    """
    raw = tuple(str(r) for r in roles if isinstance(r, str))
    context: set[str] = set()
    institution: set[str] = set()
    is_admin = False
    for role in raw:
        vocabulary, name = role_name(role)
        if vocabulary == "membership":
            context.add(name)
        elif vocabulary in {"institution", "system"}:
            # Only the platform's own administrators may run the tool's admin pages or act
            # for another person; a course-level Administrator is staff of that course only.
            if name in ADMIN_ROLE_NAMES:
                is_admin = True
            if vocabulary == "institution":
                institution.add(name)
    names = set(context)
    no_course_role = not any(is_course_role(r) for r in raw)
    if institution & STUDENT_INSTITUTION_ROLES and no_course_role:
        names.add("Learner")
    if is_admin:
        names.add("Administrator")
    staff = bool(names & STAFF_CONTEXT_ROLES)
    known = bool(names & (STAFF_CONTEXT_ROLES | STUDENT_CONTEXT_ROLES))
    return NormalisedRoles(
        raw=raw,
        names=frozenset(names),
        audience=Audience.STAFF if staff else Audience.STUDENT,
        is_admin=is_admin,
        limited=not known,
        institution_staff_only=no_course_role
        and not names
        and bool(institution & INSTITUTION_STAFF_ROLES),
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


def claim_with_nul(claims: Mapping[str, Any]) -> str | None:
    """The name of the first claim with a NUL character in any text inside it, else None.
    No person types one; PostgreSQL cannot store one; a launch carrying one is refused."""
    for name, value in claims.items():
        pending: list[Any] = [name, value]
        while pending:
            item = pending.pop()
            if isinstance(item, str):
                if "\x00" in item:
                    return str(name).replace("\x00", "\\0")
            elif isinstance(item, Mapping):
                pending.extend(item.keys())
                pending.extend(item.values())
            elif isinstance(item, list):
                pending.extend(item)
    return None
