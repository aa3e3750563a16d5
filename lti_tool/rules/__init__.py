"""The qualification rules: pure standard-library core, no app, no database.

Load a qualification from TOML (``load_qualification``/``load_all``), evaluate a student's
completions into a ``Checklist`` (``evaluate``) and propose dates (``plan_study``).
"""

from lti_tool.rules.checklist import (
    Checklist,
    ModuleProgress,
    QualificationProgress,
    Requirement,
    RequirementKind,
)
from lti_tool.rules.engine import evaluate
from lti_tool.rules.errors import RulesError
from lti_tool.rules.loader import load_all, load_qualification
from lti_tool.rules.model import Course, Module, MonthDay, OptionalGroup, Qualification, TimeRules
from lti_tool.rules.planner import plan_study
from lti_tool.rules.records import (
    AssessmentOutcome,
    AssessmentResult,
    Completion,
    CompletionStatus,
)
from lti_tool.rules.study_plan import ModulePlan, PlanEntry, StudyPlan

__all__ = [
    "AssessmentOutcome",
    "AssessmentResult",
    "Checklist",
    "Completion",
    "CompletionStatus",
    "Course",
    "Module",
    "ModulePlan",
    "ModuleProgress",
    "MonthDay",
    "OptionalGroup",
    "PlanEntry",
    "Qualification",
    "QualificationProgress",
    "Requirement",
    "RequirementKind",
    "RulesError",
    "StudyPlan",
    "TimeRules",
    "evaluate",
    "load_all",
    "load_qualification",
    "plan_study",
]
