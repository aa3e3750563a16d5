"""A complete ``Launch`` for tests that need one without launching."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lti_tool.lti.launch_context import (
    Launch,
    LaunchCourse,
    LaunchRegistration,
    LaunchRoles,
    LaunchServices,
    LaunchUser,
)

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


def a_launch(**changes: Any) -> Launch:
    """A student's launch in a course, every field set; ``changes`` replace fields."""
    launch = Launch(
        user=LaunchUser(pk=7, sub="1001", name="Sam Student", email="sam@example.org"),
        roles=LaunchRoles(
            raw=(MEMBERSHIP + "Learner",),
            names=("Learner",),
            is_staff=False,
            is_admin=False,
            limited=False,
        ),
        context=LaunchCourse(pk=3, id="course-1", title="Clinical leadership", label="PGCERT"),
        resource_link_pk=11,
        registration=LaunchRegistration(
            pk=2,
            name="moodle",
            issuer="https://lms.example.org",
            client_id="client-1",
            deployment_pk=5,
            deployment_id="1",
        ),
        message_type="LtiResourceLinkRequest",
        binding_id="abcdefghij",
        bound_at=1_765_000_000_123_456_789,
        launched_at=1_765_000_000,
        binding="platform_storage",
        services=LaunchServices(
            nrps_url="https://lms.example.org/nrps",
            ags_lineitems="https://lms.example.org/lineitems",
            ags_lineitem=None,
            ags_scopes=("https://purl.imsglobal.org/spec/lti-ags/scope/score",),
        ),
        custom={"view": "assessment", "module": "B832"},
        locale="en-GB",
        return_url="https://lms.example.org/return",
        target_link_uri="https://tool.example.org/lti/launch",
        deep_linking_settings={"deep_link_return_url": "https://lms.example.org/dl"},
        for_user={"user_id": "1002"},
    )
    return replace(launch, **changes)
