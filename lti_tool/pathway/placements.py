"""What the tool offers to place in a course through Deep Linking: the qualification's
checklist and one graded link per assessment module (``lti/deep_linking.py`` signs them)."""

from __future__ import annotations

from lti_tool.container import Services
from lti_tool.lti.deeplink.response import Choice, Offers
from lti_tool.lti.launch_context import Launch
from lti_tool.pathway.catalog import qualification_for
from lti_tool.rules import Qualification

SCORE_MAXIMUM = 100


def placements(services: Services, launch: Launch) -> Offers:
    """The offers for the qualification the launch's course (or link) tracks."""
    with services.db.read_only() as session:
        qualification = qualification_for(
            session, services.catalog, launch.context_pk, launch.custom
        )
    return Offers(offered_choices(qualification), qualification.title)


def offered_choices(qualification: Qualification) -> tuple[Choice, ...]:
    """The checklist (one per course) and one graded link per assessment module."""
    choices = [
        Choice(
            "checklist",
            "Qualification checklist",
            f"Each student's progress towards the {qualification.title}.",
            {"view": "checklist"},
        )
    ]
    for module in qualification.modules:
        label = f"{module.code} {module.title}"
        choices.append(
            Choice(
                module.code,
                label,
                f"Assessment module ({module.credits} credits): opens each student's checklist "
                f"at {module.code}.",
                {"view": "assessment", "module": module.code},
                {
                    "label": label,
                    "scoreMaximum": SCORE_MAXIMUM,
                    "resourceId": module.code,
                    "tag": module.code,
                },
            )
        )
    return tuple(choices)
