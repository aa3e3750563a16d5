"""SQLAlchemy 2 models. Persistence stays dumb: no model calls an outside service."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class SigningKey(Base):
    """One of the tool's RSA keys. The newest active one signs; retired ones stay published
    in the JWKS until ``publish_until``."""

    __tablename__ = "signing_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    publish_until: Mapped[dt.datetime | None] = mapped_column(default=None)


class Registration(Base):
    """A platform registration: one issuer + client_id pair (Canvas shares one issuer)."""

    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("issuer", "client_id", name="uq_registration_iss_client"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="generic")
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(1024))
    auth_token_url: Mapped[str] = mapped_column(String(1024))
    auth_audience: Mapped[str | None] = mapped_column(String(1024), default=None)
    key_set_url: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="Deployment.id"
    )


class Deployment(Base):
    """A deployment of a registration. Unknown deployments are recorded inactive on first
    sight and refused until an admin activates them."""

    __tablename__ = "deployments"
    __table_args__ = (
        UniqueConstraint("registration_id", "deployment_id", name="uq_deployment_reg_dep"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    registration: Mapped[Registration] = relationship(back_populates="deployments")


class User(Base):
    """A person as one platform knows them (``sub`` is only unique within a registration)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("registration_id", "sub", name="uq_user_reg_sub"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255), default=None)
    given_name: Mapped[str | None] = mapped_column(String(255), default=None)
    family_name: Mapped[str | None] = mapped_column(String(255), default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    person_sourcedid: Mapped[str | None] = mapped_column(String(255), default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Context(Base):
    """A course (LTI context) of one deployment, with the service endpoints it offered."""

    __tablename__ = "contexts"
    __table_args__ = (UniqueConstraint("deployment_pk", "context_id", name="uq_context_dep_ctx"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_pk: Mapped[int] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255), default=None)
    label: Mapped[str | None] = mapped_column(String(255), default=None)
    types: Mapped[list[Any]] = mapped_column(JSON, default=list)
    nrps_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    ags_lineitems_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    ags_scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ResourceLink(Base):
    """A placement of the tool (``resource_link.id``) in a deployment."""

    __tablename__ = "resource_links"
    __table_args__ = (
        UniqueConstraint("deployment_pk", "resource_link_id", name="uq_link_dep_link"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_pk: Mapped[int] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"))
    context_pk: Mapped[int | None] = mapped_column(
        ForeignKey("contexts.id", ondelete="CASCADE"), default=None
    )
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255), default=None)
    ags_lineitem_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Membership(Base):
    """A user's roles in a context, as the latest validated launch stated them."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("context_pk", "user_pk", name="uq_membership_ctx_user"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    roles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    last_launch_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Ephemeral(Base):
    """Short-lived keyed values (OIDC state, nonces, launch sessions, caches) when no Redis
    is configured. ``kind`` separates the name spaces; rows past ``expires_at`` are dead."""

    __tablename__ = "ephemeral"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class ContextSettings(Base):
    """Per-course choices staff make: the qualification it tracks, where it was copied from."""

    __tablename__ = "context_settings"
    context_pk: Mapped[int] = mapped_column(
        ForeignKey("contexts.id", ondelete="CASCADE"), primary_key=True
    )
    qualification_code: Mapped[str | None] = mapped_column(String(64), default=None)
    copied_from_context_pk: Mapped[int | None] = mapped_column(
        ForeignKey("contexts.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CohortModuleStart(Base):
    """The assessment-module start date of a course's cohort (e.g. B832 on 30 May)."""

    __tablename__ = "cohort_module_starts"
    __table_args__ = (UniqueConstraint("context_pk", "module_code", name="uq_cohort_start"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    module_code: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(32), default="staff")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StudentModuleStart(Base):
    """One attempt's start for one student (late registration, resit); the latest attempt is
    in force and earlier ones are kept as history."""

    __tablename__ = "student_module_starts"
    __table_args__ = (
        UniqueConstraint(
            "context_pk", "user_pk", "module_code", "attempt", name="uq_student_start_attempt"
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    module_code: Mapped[str] = mapped_column(String(32))
    attempt: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(500), default=None)
    created_by_user_pk: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CompletionRecord(Base):
    """The tool's dated copy of one source's word on one CPD course for one student."""

    __tablename__ = "completion_records"
    __table_args__ = (
        UniqueConstraint("user_pk", "course_code", "source", name="uq_completion_user_course_src"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.date | None] = mapped_column(Date, default=None)
    completed_at: Mapped[dt.date | None] = mapped_column(Date, default=None)
    source: Mapped[str] = mapped_column(String(32))
    fetched_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who changed what, when, from what to what, and why. Kept when people are erased
    (the actor and subject columns are then cleared, the rest stays)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_user_pk: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    context_pk: Mapped[int | None] = mapped_column(
        ForeignKey("contexts.id", ondelete="SET NULL"), default=None, index=True
    )
    action: Mapped[str] = mapped_column(String(64))
    subject_user_pk: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    subject: Mapped[str | None] = mapped_column(String(255), default=None)
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    reason: Mapped[str | None] = mapped_column(String(500), default=None)
