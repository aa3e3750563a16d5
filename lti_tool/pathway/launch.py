"""What the pathway does with a validated launch: course history and preset start dates."""

from __future__ import annotations

from lti_tool.container import Services
from lti_tool.lti.flow import LaunchOutcome, complete_launch
from lti_tool.pathway.catalog import inherit_from_history
from lti_tool.pathway.module_starts import preset_from_launch
from lti_tool.persistence.models import Context


def open_launch(services: Services) -> LaunchOutcome:
    """Validate the launch, then apply what its custom parameters say about the course."""
    outcome = complete_launch(services)
    context_info = outcome.session.get("context")
    if not context_info:
        return outcome
    custom = outcome.session.get("custom") or {}
    with services.db.unit_of_work() as session:
        context = session.get(Context, int(context_info["pk"]))
        assert context is not None
        history = custom.get("context_history")
        if isinstance(history, str) and history.strip() and not history.startswith("$"):
            inherit_from_history(session, context, history)
        qualification = services.catalog.for_context(session, context.id, custom)
        preset_from_launch(session, qualification, context.id, custom)
    return outcome
