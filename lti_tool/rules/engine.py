"""The checklist: where a student stands on a qualification, and what to do next."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from lti_tool.rules.checklist import Checklist, QualificationProgress
from lti_tool.rules.model import Qualification
from lti_tool.rules.planner import plan_from_progress
from lti_tool.rules.progress import merge_completions, module_progress
from lti_tool.rules.records import AssessmentResult, Completion
from lti_tool.rules.steps import next_steps, quiet_notes


def evaluate(
    qualification: Qualification,
    completions: Iterable[Completion],
    module_starts: Mapping[str, date],
    today: date,
    assessments: Mapping[str, AssessmentResult] | None = None,
) -> Checklist:
    """Evaluate a student's completions and assessment results as of ``today``.

    ``module_starts`` maps module code to the student's effective start (cohort date or
    override); ``assessments`` maps module code to a recorded result, absent while pending.
    Completions for codes outside the qualification are ignored and listed in
    ``unknown_codes``; entries for unknown modules are ignored.
    """
    records, unknown = merge_completions(completions, qualification.course_codes())
    assessments = assessments or {}
    modules = tuple(
        module_progress(
            module,
            qualification.time_rules,
            records,
            module_starts.get(module.code),
            assessments.get(module.code),
            today,
        )
        for module in qualification.modules
    )
    complete = all(module.passed for module in modules)
    summary = QualificationProgress(
        code=qualification.code,
        title=qualification.title,
        credits_required=qualification.credits_required,
        credits_earned=sum(module.credits_earned for module in modules),
        complete=complete,
        deadline_months=qualification.time_rules.deadline_months,
    )
    plan = plan_from_progress(qualification, modules, today)
    return Checklist(
        qualification=summary,
        modules=modules,
        next_steps=next_steps(qualification, modules, today, plan),
        unknown_codes=unknown,
        as_of=today,
        plan=plan,
        notes=quiet_notes(modules),
    )
