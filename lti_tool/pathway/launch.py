"""What the pathway does with a validated launch: course history and preset start dates,
recorded with the launch in one transaction, then the roster or the completion copy."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lti_tool.completion.class_progress import start_class_refresh
from lti_tool.completion.refresh import Student, refresh_on_launch
from lti_tool.container import Services
from lti_tool.lti.flow import LaunchOutcome, open_session, record, validate_launch
from lti_tool.lti.launch_context import Launch
from lti_tool.pathway.catalog import inherit_from_history, qualification_for
from lti_tool.pathway.module_starts import preset_from_launch
from lti_tool.pathway.roster import ensure_roster
from lti_tool.persistence.models import Context


def open_launch(services: Services) -> LaunchOutcome:
    """Validate the launch; record it and, in the same transaction, apply what its custom
    parameters say about the course (``apply_course_parameters``): when that fails, nothing
    of the launch is committed and no session is opened. Then make sure a staff member's
    roster and the class's completion copies (a background class refresh, see
    ``completion.class_progress``) or a student's own copy (``completion.refresh``) are
    fresh."""
    validated = validate_launch(services)
    with services.db.unit_of_work() as session:
        launch = record(session, validated)
        apply_course_parameters(services, session, launch)
    outcome = open_session(services, launch)
    registration_pk = launch.registration.pk
    if launch.is_staff and launch.context is not None:
        ensure_roster(services, launch.context.pk)
        if services.registry_cache.has_completion_source(registration_pk):
            start_class_refresh(services, launch.context.pk, only_if_stale=True)
    elif services.registry_cache.has_completion_source(registration_pk):
        refresh_on_launch(
            services,
            Student(
                registration_pk,
                launch.user_pk,
                launch.sub,
                launch.custom,
                launch.context_pk,
                launch.context.id if launch.context is not None else None,
            ),
        )
    return outcome


def apply_course_parameters(services: Services, session: Session, launch: Launch) -> None:
    """A copied course inherits its history (custom ``context_history``); ``<module>_start``
    parameters preset the cohort's module start dates."""
    custom = launch.custom
    if launch.context is None or not custom:
        return
    history = custom.get("context_history")
    if history is not None and history.strip() and not history.startswith("$"):
        context = session.get(Context, launch.context.pk)
        assert context is not None
        inherit_from_history(session, context, history)
    if any(key.endswith("_start") for key in custom):
        qualification = qualification_for(session, services.catalog, launch.context.pk, custom)
        preset_from_launch(session, qualification, launch.context.pk, custom)
