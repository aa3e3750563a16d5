"""What the pathway does with a validated launch: course history and preset start dates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.completion.refresh import Student, refresh_on_launch
from lti_tool.container import Services
from lti_tool.lti.flow import LaunchOutcome, complete_launch
from lti_tool.pathway.catalog import inherit_from_history
from lti_tool.pathway.module_starts import preset_from_launch
from lti_tool.pathway.roster import ensure_roster
from lti_tool.persistence.models import Context


def open_launch(services: Services) -> LaunchOutcome:
    """Validate the launch; in the same transaction, apply what its custom parameters say
    about the course (copied-course history, preset module start dates); then make sure a
    student's completion copy is fresh (see ``completion.refresh``)."""

    def apply(session: Session, recorded: dict[str, Any], claims: Mapping[str, Any]) -> None:
        context_info = recorded.get("context")
        custom = claims.get("https://purl.imsglobal.org/spec/lti/claim/custom")
        if not context_info or not isinstance(custom, dict) or not custom:
            return
        history = custom.get("context_history")
        if isinstance(history, str) and history.strip() and not history.startswith("$"):
            context = session.get(Context, int(context_info["pk"]))
            assert context is not None
            inherit_from_history(session, context, history)
        if any(str(key).endswith("_start") for key in custom):
            qualification = services.catalog.for_context(session, context_info["pk"], custom)
            preset_from_launch(session, qualification, int(context_info["pk"]), custom)

    outcome = complete_launch(services, on_recorded=apply)
    data = outcome.session
    registration_pk = int(data["registration"]["pk"])
    if data.get("is_staff") and data.get("context"):
        ensure_roster(services, int(data["context"]["pk"]))
    elif services.registry_cache.has_completion_source(registration_pk):
        refresh_on_launch(
            services,
            Student(
                registration_pk,
                int(data["user_pk"]),
                str(data["sub"]),
                data.get("custom") or {},
                int(data["context"]["pk"]) if data.get("context") else None,
            ),
        )
    return outcome
