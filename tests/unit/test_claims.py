"""Role normalisation and audience rules: plain functions, no app."""

from __future__ import annotations

from typing import Any

import pytest

from lti_tool.lti.claims import Audience, client_id_of, normalise_roles, role_name

M = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INST = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
S = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"


MSUB = "http://purl.imsglobal.org/vocab/lis/v2/membership/"
TA = MSUB + "Instructor#TeachingAssistant"


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (M + "Learner", ("membership", "Learner")),
        ("Instructor", ("membership", "Instructor")),
        (INST + "Administrator", ("institution", "Administrator")),
        (S + "SysAdmin", ("system", "SysAdmin")),
        (
            "http://purl.imsglobal.org/vocab/lis/v2/person#Administrator",
            ("institution", "Administrator"),
        ),
        # A sub-role counts as its principal role.
        (TA, ("membership", "Instructor")),
        (MSUB + "Learner#Instructor", ("membership", "Learner")),
        ("Instructor#TeachingAssistant", ("membership", "Instructor")),
        ("TeachingAssistant", ("membership", "Instructor")),
        ("Wizard", ("unknown", "Wizard")),
        ("urn:lti:role:ims/lis/Instructor", ("unknown", "urn:lti:role:ims/lis/Instructor")),
        ("http://example.com/role#Wizard", ("unknown", "http://example.com/role#Wizard")),
    ],
)
def test_role_name(role: str, expected: tuple[str, str]) -> None:
    assert role_name(role) == expected


STAFF, STUDENT = Audience.STAFF, Audience.STUDENT


@pytest.mark.parametrize(
    ("roles", "audience", "admin", "limited"),
    [
        # Context roles, full URIs and the simple names LTI 1.3 allows.
        ([M + "Learner"], STUDENT, False, False),
        (["Learner"], STUDENT, False, False),
        ([M + "Instructor"], STAFF, False, False),
        (["Instructor"], STAFF, False, False),
        ([TA], STAFF, False, False),
        ([MSUB + "Instructor#Grader"], STAFF, False, False),
        (["TeachingAssistant"], STAFF, False, False),
        (["Instructor#TeachingAssistant"], STAFF, False, False),
        ([M + "ContentDeveloper"], STAFF, False, False),
        (["ContentDeveloper"], STAFF, False, False),
        ([MSUB + "ContentDeveloper#Librarian"], STAFF, False, False),
        # A course-level Administrator is staff, not an administrator of the platform.
        ([M + "Administrator"], STAFF, False, False),
        (["Administrator"], STAFF, False, False),
        ([M + "Learner", M + "Instructor"], STAFF, False, False),
        # A learner sub-role named "Instructor" is still a learner.
        ([MSUB + "Learner#Instructor"], STUDENT, False, False),
        # Mentor (Canvas observers: parents, advisors), Member, Manager: not staff.
        ([M + "Mentor"], STUDENT, False, True),
        ([M + "Member"], STUDENT, False, True),
        ([M + "Manager"], STUDENT, False, True),
        # Institution roles do not override the course role (Canvas sends them from
        # enrolments anywhere in the account).
        ([M + "Learner", INST + "Instructor"], STUDENT, False, False),
        ([M + "Learner", INST + "Faculty"], STUDENT, False, False),
        (["Learner", INST + "Instructor", INST + "Faculty"], STUDENT, False, False),
        ([M + "Mentor", INST + "Instructor"], STUDENT, False, True),
        ([M + "Instructor", INST + "Student"], STAFF, False, False),
        # Course roles the tool does not recognise are still course roles: the institution
        # Instructor role does not make these learners staff.
        (["urn:lti:role:ims/lis/Learner", INST + "Instructor"], STUDENT, False, True),
        (["urn:lti:role:ims/lis/Instructor", INST + "Instructor"], STUDENT, False, True),
        (["Student", INST + "Instructor"], STUDENT, False, True),
        (["Observer", INST + "Faculty"], STUDENT, False, True),
        ([M + "Observer", INST + "Instructor"], STUDENT, False, True),
        ([MSUB + "Learner", INST + "Instructor"], STUDENT, False, True),
        # Alone, an institution Instructor or Faculty role is no staff right in the course
        # (LTI 1.3 Core A.2.2: it says what the person is elsewhere in the institution) ...
        ([INST + "Faculty"], STUDENT, False, True),
        ([INST + "Instructor"], STUDENT, False, True),
        ([INST + "Instructor", "Wizard"], STUDENT, False, True),
        ([INST + "Instructor", S + "User"], STUDENT, False, True),
        # ... while a student institution role counts when there is no course role at all.
        ([INST + "Student"], STUDENT, False, False),
        ([INST + "Learner", "http://example.com/role#Wizard"], STUDENT, False, False),
        # Platform administrators keep the admin meaning, whatever the course role.
        ([INST + "Administrator"], STAFF, True, False),
        ([S + "SysAdmin"], STAFF, True, False),
        ([S + "Administrator"], STAFF, True, False),
        ([M + "Learner", INST + "Administrator"], STAFF, True, False),
        ([S + "User", M + "Learner"], STUDENT, False, False),
        (["http://example.com/role#Wizard"], STUDENT, False, True),
        (["http://purl.imsglobal.org/vocab/lti/system/person#TestUser"], STUDENT, False, True),
        ([], STUDENT, False, True),
        ([42, None, "Learner"], STUDENT, False, False),
    ],
)
def test_normalise_roles(roles: list[Any], audience: Audience, admin: bool, limited: bool) -> None:
    result = normalise_roles(roles)
    assert result.audience is audience
    assert result.is_admin is admin
    assert result.limited is limited
    assert result.is_staff is (audience is Audience.STAFF)


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"aud": "tool"}, "tool"),
        ({"aud": ["tool"]}, "tool"),
        ({"aud": ["tool", "other"]}, None),
        ({"aud": ["tool", "other"], "azp": "tool"}, "tool"),
        ({"aud": "tool", "azp": "other"}, "other"),
        ({"aud": ""}, None),
        ({}, None),
        ({"aud": 7}, None),
    ],
)
def test_client_id_of(claims: dict[str, Any], expected: str | None) -> None:
    assert client_id_of(claims) == expected


@pytest.mark.parametrize(
    ("roles", "learner"),
    [
        ([M + "Learner"], True),
        (["Learner"], True),
        ([], True),  # no role the tool knows: the limited student view, listed as one
        (["http://example.com/role#Wizard"], True),
        ([INST + "Student"], True),
        ([M + "Instructor"], False),
        ([M + "Mentor"], False),
        # Someone the platform calls an instructor of the institution, with no role in this
        # course: not staff here, and not one of the course's students either.
        ([INST + "Instructor"], False),
        ([INST + "Faculty", S + "User"], False),
        ([INST + "Instructor", M + "Learner"], True),
    ],
)
def test_is_learner(roles: list[str], learner: bool) -> None:
    assert normalise_roles(roles).is_learner is learner
