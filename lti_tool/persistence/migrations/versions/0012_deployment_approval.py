"""a deployment's approval, kept on the deployment

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 03:30:00

``deployments.approval``: ``pending`` (never approved: only a tool admin may activate it),
``approved`` (an admin of the registration may switch it off and on) or ``switched_off`` (a
tool admin switched it off: only a tool admin switches it back on). The tool used to work out
"waiting for approval" from the audit log (inactive, and no ``deployment.deactivate`` entry),
so an LMS admin who "deactivated" a waiting deployment could then activate it.

Existing rows get what the audit log says, with the same rule, read more closely:

- an active deployment is ``approved``;
- an inactive one is ``switched_off`` when a tool admin (or the command line) deactivated it
  last, ``approved`` when an LMS admin switched it off from active last, and ``pending`` when
  nobody deactivated it, or an LMS admin "deactivated" it while it was already inactive (the
  detour above: it was waiting, and still is).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_DEACTIVATE = "deployment.deactivate"
_LMS_ADMIN = "LMS admin "  # how the audit log names an LMS admin (admin/identity.py label)

_deployments = sa.table(
    "deployments",
    sa.column("id", sa.Integer()),
    sa.column("registration_id", sa.Integer()),
    sa.column("active", sa.Boolean()),
    sa.column("approval", sa.String()),
)
_audit = sa.table(
    "audit_log",
    sa.column("id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("subject", sa.String()),
    sa.column("old", sa.JSON()),
    sa.column("new", sa.JSON()),
)


def _approval_of_inactive(entries: Iterable[tuple[Any, Any]]) -> str:
    """The approval of an inactive deployment, from its deactivations, oldest first."""
    approval = "pending"
    for old, new in entries:
        old = old if isinstance(old, Mapping) else {}
        new = new if isinstance(new, Mapping) else {}
        if not str(new.get("admin", "")).startswith(_LMS_ADMIN):
            approval = "switched_off"
        elif old.get("active") is not False:
            approval = "approved"
        # An LMS admin's deactivation of an inactive deployment changed nothing.
    return approval


def upgrade() -> None:
    connection = op.get_bind()
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("approval", sa.String(length=12), server_default="pending", nullable=False)
        )
    connection.execute(
        _deployments.update().where(_deployments.c.active).values(approval="approved")
    )
    entries: dict[str, list[tuple[Any, Any]]] = {}
    for subject, old, new in connection.execute(
        sa.select(_audit.c.subject, _audit.c.old, _audit.c.new)
        .where(_audit.c.action == _DEACTIVATE)
        .order_by(_audit.c.id)
    ):
        entries.setdefault(subject, []).append((old, new))
    inactive = connection.execute(
        sa.select(_deployments.c.id, _deployments.c.registration_id).where(~_deployments.c.active)
    ).all()
    for deployment_pk, registration_pk in inactive:
        subject = f"registration:{registration_pk}/deployment:{deployment_pk}"
        approval = _approval_of_inactive(entries.get(subject, []))
        if approval != "pending":
            connection.execute(
                _deployments.update()
                .where(_deployments.c.id == deployment_pk)
                .values(approval=approval)
            )
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.create_check_constraint(
            "ck_deployment_approval",
            "approval IN ('pending', 'approved', 'switched_off') "
            "AND (approval = 'approved' OR NOT active)",
        )


def downgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_constraint("ck_deployment_approval", type_="check")
        batch_op.drop_column("approval")
