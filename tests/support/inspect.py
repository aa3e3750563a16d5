"""Look at what the tool stored, whatever the backend."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from lti_tool.persistence.models import (
    Context,
    Deployment,
    Ephemeral,
    Membership,
    ResourceLink,
    User,
)


def session_count(app: Flask) -> int:
    services = app.extensions["lti_tool"]
    store = services.store
    if store.backend == "redis":
        prefix = services.settings.redis_prefix
        return sum(1 for _ in store.client.scan_iter(f"{prefix}:session:*"))
    with services.db.read_only() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Ephemeral).where(Ephemeral.kind == "session")
            )
            or 0
        )


def row_counts(app: Flask) -> dict[str, Any]:
    db = app.extensions["lti_tool"].db
    with db.read_only() as session:
        counts = {
            model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (User, Context, ResourceLink, Membership, Deployment)
        }
    counts["sessions"] = session_count(app)
    return counts
