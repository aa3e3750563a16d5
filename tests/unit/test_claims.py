"""Role normalisation and audience rules: plain functions, no app."""

from __future__ import annotations

from typing import Any

import pytest

from lti_tool.lti.claims import Audience, client_id_of, normalise_roles, role_name

M = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INST = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
S = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (M + "Learner", ("membership", "Learner")),
        ("Instructor", ("membership", "Instructor")),
        (INST + "Administrator", ("institution", "Administrator")),
        (S + "SysAdmin", ("system", "SysAdmin")),
        (
            "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",
            ("membership", "TeachingAssistant"),
        ),
        ("http://example.com/role#Wizard", ("unknown", "http://example.com/role#Wizard")),
    ],
)
def test_role_name(role: str, expected: tuple[str, str]) -> None:
    assert role_name(role) == expected


@pytest.mark.parametrize(
    ("roles", "audience", "admin", "limited"),
    [
        ([M + "Learner"], Audience.STUDENT, False, False),
        (["Learner"], Audience.STUDENT, False, False),
        ([M + "Instructor"], Audience.STAFF, False, False),
        (["Instructor"], Audience.STAFF, False, False),
        (["TeachingAssistant"], Audience.STAFF, False, False),
        ([M + "ContentDeveloper"], Audience.STAFF, False, False),
        # A course-level Administrator is staff, not an administrator of the platform.
        ([M + "Administrator"], Audience.STAFF, False, False),
        (["Administrator"], Audience.STAFF, False, False),
        ([INST + "Administrator"], Audience.STAFF, True, False),
        ([S + "SysAdmin"], Audience.STAFF, True, False),
        ([M + "Learner", M + "Instructor"], Audience.STAFF, False, False),
        ([M + "Mentor"], Audience.STUDENT, False, True),
        (["http://example.com/role#Wizard"], Audience.STUDENT, False, True),
        ([], Audience.STUDENT, False, True),
        ([INST + "Student"], Audience.STUDENT, False, False),
        ([INST + "Faculty"], Audience.STAFF, False, False),
        ([42, None, "Learner"], Audience.STUDENT, False, False),
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
