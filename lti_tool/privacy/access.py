"""Whose data a Data Privacy Launch may show: the launcher's own, or (for an LMS
administrator) the person the ``for_user`` claim names. Pure: no Flask, no database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lti_tool.errors import Forbidden
from lti_tool.lti.launch_context import Launch


@dataclass(frozen=True)
class PrivacySubject:
    """The person concerned, within the launch's registration."""

    registration_pk: int
    sub: str
    launcher_sub: str
    launcher_user_pk: int
    for_user: Mapping[str, Any] | None

    @property
    def is_self(self) -> bool:
        return self.sub == self.launcher_sub


def for_user_id(for_user: Any) -> str | None:
    """``for_user.user_id`` as text, or None when the claim is absent or has no user id."""
    if not isinstance(for_user, Mapping):
        return None
    user_id = for_user.get("user_id")
    if isinstance(user_id, (str, int)) and not isinstance(user_id, bool) and str(user_id).strip():
        return str(user_id).strip()
    return None


def privacy_subject(launch: Launch) -> PrivacySubject:
    """Who the launch may see data about; Forbidden when it names someone else and the
    launcher holds no LMS administrator role."""
    launcher_sub = launch.sub
    named = for_user_id(launch.for_user)
    sub = named or launcher_sub
    if sub != launcher_sub and not launch.is_admin:
        raise Forbidden(
            "privacy_not_admin",
            "This data privacy launch is about another person. Only the person themself or "
            "an LMS administrator may see what the tool holds about someone.",
        )
    return PrivacySubject(
        registration_pk=launch.registration.pk,
        sub=sub,
        launcher_sub=launcher_sub,
        launcher_user_pk=launch.user_pk,
        for_user=launch.for_user,
    )
