"""a signing key begins signing at activates_at

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 07:00:00

``signing_keys.activates_at``: when a key begins signing. A routine rotation stages the new
key (published at once, signing later) so that platforms that cached the JWKS know it before
they see it (``lti/keys.py``). Every key stored before this migration signed from the moment
it was made, so existing rows get their ``created_at``.

The downgrade leaves what the old code understands: a key still pending is deleted (it has
signed nothing) and the key it would have replaced is active again (not retired).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_keys = sa.table(
    "signing_keys",
    sa.column("id", sa.Integer()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("activates_at", sa.DateTime(timezone=True)),
    sa.column("retired_at", sa.DateTime(timezone=True)),
    sa.column("publish_until", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("activates_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(_keys.update().values(activates_at=_keys.c.created_at))
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.alter_column(
            "activates_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    now = dt.datetime.now(dt.UTC)
    op.execute(_keys.delete().where(_keys.c.activates_at > now))
    op.execute(
        _keys.update().where(_keys.c.retired_at > now).values(retired_at=None, publish_until=None)
    )
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.drop_column("activates_at")
