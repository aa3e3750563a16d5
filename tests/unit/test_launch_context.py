"""The typed launch a session grants: stored as JSON, read back unchanged; a session of an
older format (or a damaged one) reads as nothing, so its user simply launches again."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from lti_tool.lti.launch_context import LAUNCH_FORMAT, Launch, LaunchServices, session_user_pk
from tests.support.launches import MEMBERSHIP, a_launch


def stored(launch: Launch) -> Any:
    """What the store hands back: the JSON text read again."""
    return json.loads(json.dumps(launch.to_json()))


def test_a_launch_reads_back_as_it_was_written() -> None:
    launch = a_launch()
    assert stored(launch)["launch_format"] == LAUNCH_FORMAT == 2
    assert Launch.from_json(stored(launch)) == launch


def test_a_launch_outside_a_course_reads_back_too() -> None:
    launch = replace(
        a_launch(),
        context=None,
        resource_link_pk=None,
        services=LaunchServices(),
        custom={},
        deep_linking_settings=None,
        for_user=None,
    )
    again = Launch.from_json(stored(launch))
    assert again == launch
    assert again is not None and again.context_pk is None


def test_the_dict_of_earlier_versions_reads_as_no_launch() -> None:
    old = {
        "user_pk": 7,
        "name": "Sam Student",
        "email": "sam@example.org",
        "context": {"pk": 3, "id": "course-1", "title": "T", "label": "L"},
        "resource_link_pk": 11,
        "sub": "1001",
        "roles": [MEMBERSHIP + "Instructor"],
        "role_names": ["Instructor"],
        "is_staff": True,
        "is_admin": False,
        "limited": False,
        "registration": {"pk": 2, "name": "moodle", "issuer": "i", "client_id": "c"},
        "deployment": {"pk": 5, "id": "1"},
        "custom": {},
        "page_binding": "abcdefghij",
        "page_bound_at": 1,
    }
    assert Launch.from_json(old) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.update(launch_format=1),
        lambda d: d.update(launch_format="2"),
        lambda d: d.pop("user"),
        lambda d: d["user"].update(extra="field"),
        lambda d: d.update(roles=None),
        lambda d: d.update(context={"pk": 3}),
        lambda d: d.update(bound_at="soon"),
        lambda d: d.update(custom=["not", "a", "mapping"]),
        lambda d: d.update(for_user="1002"),
    ],
)
def test_a_damaged_session_reads_as_no_launch(damage: Any) -> None:
    data = stored(a_launch())
    damage(data)
    assert Launch.from_json(data) is None


@pytest.mark.parametrize("value", [None, "text", [], 42])
def test_what_is_no_object_reads_as_no_launch(value: Any) -> None:
    assert Launch.from_json(value) is None


def test_the_user_of_a_session_is_found_in_either_format() -> None:
    assert session_user_pk(stored(a_launch())) == 7
    assert session_user_pk({"user_pk": 41, "name": "Lee"}) == 41
    assert session_user_pk({"name": "Lee"}) is None
    assert session_user_pk("text") is None
