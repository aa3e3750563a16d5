"""Platforms, keys, people, courses and short-lived launch state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false as sa_false

from lti_tool.persistence.models.base import Base, utcnow


class SigningKey(Base):
    """One of the tool's RSA keys. It signs from ``activates_at`` (a staged key is published
    before then) until ``retired_at``, and stays published in the JWKS until
    ``publish_until``. The private PEM is sealed with the secret box (``lti/keys.py`` seals
    and opens it, and says which key signs when)."""

    __tablename__ = "signing_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_key_sealed: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    activates_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    publish_until: Mapped[dt.datetime | None] = mapped_column(default=None)


class Registration(Base):
    """A platform registration: one issuer + client_id pair (Canvas shares one issuer).

    ``new_deployments`` decides what a validly signed launch from a deployment never seen
    before does: ``accept`` records it active and lets the launch in, ``hold`` records it
    inactive and refuses the launch until an administrator approves it."""

    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("issuer", "client_id", name="uq_registration_iss_client"),
        CheckConstraint(
            "new_deployments IN ('accept', 'hold')", name="ck_registration_new_deployments"
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="generic")
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(1024))
    auth_token_url: Mapped[str] = mapped_column(String(1024))
    auth_audience: Mapped[str | None] = mapped_column(String(1024), default=None)
    key_set_url: Mapped[str] = mapped_column(String(1024))
    new_deployments: Mapped[str] = mapped_column(String(8), default="hold", server_default="hold")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="Deployment.id"
    )


def _first_approval(context: Any) -> str:
    """A row inserted active is approved; one inserted inactive waits for approval."""
    return "approved" if context.get_current_parameters().get("active") else "pending"


class Deployment(Base):
    """A deployment of a registration. A deployment first seen in a signed launch is recorded
    then, active or not as its registration's ``new_deployments`` says; an inactive one is
    refused until an admin activates it. ``created_at`` is when it was first seen.

    ``approval`` says who may activate it (``lti/deployment_policy.py``): ``pending`` (never
    approved: a tool admin), ``approved`` (any admin of the registration) or ``switched_off``
    (a tool admin switched it off: a tool admin). An active deployment is always approved."""

    __tablename__ = "deployments"
    __table_args__ = (
        UniqueConstraint("registration_id", "deployment_id", name="uq_deployment_reg_dep"),
        CheckConstraint(
            "approval IN ('pending', 'approved', 'switched_off') "
            "AND (approval = 'approved' OR NOT active)",
            name="ck_deployment_approval",
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    approval: Mapped[str] = mapped_column(
        String(12), default=_first_approval, server_default="pending"
    )
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
    # The LMS API's own id when it differs from sub: written by earlier versions from Canvas's
    # custom canvas_user_id, which a link can set; no longer written nor read (Canvas is asked).
    lms_user_id: Mapped[str | None] = mapped_column(String(64), default=None)
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
    roster_fetched_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # When a roster refresh last asked the platform (written before it asks): a launch since
    # then stamps its membership, so that roster cannot mark the member as having left.
    roster_asked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # LTI Course Groups service, when the platform offers it (and grants its scope).
    groups_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    group_sets_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    groups_fetched_at: Mapped[dt.datetime | None] = mapped_column(default=None)
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
    """A user's roles in a context, from their latest launch or the NRPS roster."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("context_pk", "user_pk", name="uq_membership_ctx_user"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    roles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    last_launch_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # From the NRPS roster: "active", or "left" once the platform no longer lists them.
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    in_roster: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    roster_seen_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Ephemeral(Base):
    """Short-lived keyed values (OIDC state, nonces, launch sessions, caches) when no Redis
    is configured. ``kind`` separates the name spaces; rows past ``expires_at`` are dead."""

    __tablename__ = "ephemeral"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
