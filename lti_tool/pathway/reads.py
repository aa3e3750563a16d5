"""The statements a launch's landing page runs, built once per process (issue 14).

Building a ``select`` and the cache key of its literal values cost as much CPU as running it
(~0.15 ms each, five to six per launch); built once with bound parameters, SQLAlchemy keeps
the statement's cache key and compiled form, and each request only binds its values. They
stay ORM statements (``Model.column``), so a session with pending changes still flushes them
before it reads, as the statements built per call did.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, bindparam, literal, select, union_all

from lti_tool.persistence.models import (
    AssessmentResultRow,
    CohortModuleStart,
    CompletionRecord,
    CompletionSourceConfig,
    Context,
    ContextSettings,
    CourseMappingRow,
    Deployment,
    Membership,
    Registration,
    StudentModuleStart,
    User,
)

# Parameters: context_pk.
QUALIFICATION_CHOSEN: Any = select(ContextSettings.qualification_code).where(
    ContextSettings.context_pk == bindparam("context_pk")
)

# Parameters: user_pks (a list).
COMPLETION_COPIES: Any = select(
    CompletionRecord.user_pk,
    CompletionRecord.course_code,
    CompletionRecord.status,
    CompletionRecord.started_at,
    CompletionRecord.completed_at,
    CompletionRecord.source,
    CompletionRecord.fetched_at,
).where(CompletionRecord.user_pk.in_(bindparam("user_pks", expanding=True)))

# Parameters: context_pk.
LMS_COURSES: Any = (
    select(
        Registration.issuer,
        Registration.auth_login_url,
        Registration.auth_token_url,
        Registration.key_set_url,
        Registration.auth_audience,
        CompletionSourceConfig.kind,
        CompletionSourceConfig.endpoint_url,
        CompletionSourceConfig.mode,
        CourseMappingRow.course_code,
        CourseMappingRow.course_id,
        CourseMappingRow.activity_id,
    )
    .join(Deployment, Deployment.registration_id == Registration.id)
    .join(Context, Context.deployment_pk == Deployment.id)
    .join(CompletionSourceConfig, CompletionSourceConfig.registration_pk == Registration.id)
    .outerjoin(CourseMappingRow, CourseMappingRow.registration_pk == Registration.id)
    .where(Context.id == bindparam("context_pk"))
)

# Parameters: context_pk, user_pk. The cohort's dates (attempt NULL) and the student's own.
EFFECTIVE_STARTS: Any = union_all(
    select(
        CohortModuleStart.module_code,
        CohortModuleStart.start_date,
        literal(None, Integer).label("attempt"),
    ).where(CohortModuleStart.context_pk == bindparam("context_pk")),
    select(
        StudentModuleStart.module_code, StudentModuleStart.start_date, StudentModuleStart.attempt
    ).where(
        StudentModuleStart.context_pk == bindparam("context_pk"),
        StudentModuleStart.user_pk == bindparam("user_pk"),
    ),
)

# Parameters: context_pk.
COHORT_STARTS: Any = select(CohortModuleStart.module_code, CohortModuleStart.start_date).where(
    CohortModuleStart.context_pk == bindparam("context_pk")
)

# Parameters: context_pk, user_pk.
RESULT_ROWS: Any = select(
    AssessmentResultRow.module_code,
    AssessmentResultRow.outcome,
    AssessmentResultRow.score,
    AssessmentResultRow.max_score,
    AssessmentResultRow.released,
    AssessmentResultRow.comment,
).where(
    AssessmentResultRow.context_pk == bindparam("context_pk"),
    AssessmentResultRow.user_pk == bindparam("user_pk"),
)

# Parameters: context_pk.
MEMBERS: Any = (
    select(
        User.sub,
        User.name,
        User.email,
        Membership.roles,
        Membership.status,
        Membership.last_launch_at.is_not(None),
    )
    .join(Membership, Membership.user_pk == User.id)
    .where(Membership.context_pk == bindparam("context_pk"))
    .order_by(User.family_name, User.name, User.sub)
)

# Parameters: context_pk. Whether a staff launch must fetch the roster first.
ROSTER_STATE: Any = select(Context.nrps_url, Context.roster_fetched_at).where(
    Context.id == bindparam("context_pk")
)
