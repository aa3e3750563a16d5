"""SQLAlchemy 2 models. Persistence stays dumb: no model calls an outside service."""

from lti_tool.persistence.models.admin import ToolAdmin
from lti_tool.persistence.models.base import Base, UTCDateTime, utcnow
from lti_tool.persistence.models.grading import (
    AssessmentResultRow,
    LineItemRow,
    OutboxRow,
    SyncJobRow,
)
from lti_tool.persistence.models.groups import CourseGroup, CourseGroupMember
from lti_tool.persistence.models.lms import CompletionSourceConfig, CourseMappingRow
from lti_tool.persistence.models.lti import (
    Context,
    Deployment,
    Ephemeral,
    Membership,
    Registration,
    ResourceLink,
    SigningKey,
    User,
)
from lti_tool.persistence.models.pathway import (
    AuditEntry,
    CohortModuleStart,
    CompletionRecord,
    ContextSettings,
    StudentModuleStart,
)
from lti_tool.persistence.models.privacy import ErasureRequest

__all__ = [
    "AssessmentResultRow",
    "AuditEntry",
    "Base",
    "CohortModuleStart",
    "CompletionRecord",
    "CompletionSourceConfig",
    "Context",
    "ContextSettings",
    "CourseGroup",
    "CourseGroupMember",
    "CourseMappingRow",
    "Deployment",
    "Ephemeral",
    "ErasureRequest",
    "LineItemRow",
    "Membership",
    "OutboxRow",
    "Registration",
    "ResourceLink",
    "SigningKey",
    "StudentModuleStart",
    "SyncJobRow",
    "ToolAdmin",
    "UTCDateTime",
    "User",
    "utcnow",
]
