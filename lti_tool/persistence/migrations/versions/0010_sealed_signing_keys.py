"""signing keys sealed at rest

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 18:20:00

The private PEM of every stored signing key is sealed with the secret box (Fernet keyed from
LTI_TOOL_SECRET_KEY, ``lti_tool/crypto.py``) into ``private_key_sealed``; the plaintext
column goes. ``lti-tool init`` passes the secret (``persistence/migrate.py``); a database
that holds keys cannot be migrated without it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from lti_tool.crypto import SecretBox

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_keys = sa.table(
    "signing_keys",
    sa.column("id", sa.Integer()),
    sa.column("private_pem", sa.Text()),
    sa.column("private_key_sealed", sa.Text()),
)


def _box(rows: int) -> SecretBox | None:
    secret = context.config.attributes.get("secret_key")
    if rows and not secret:
        raise RuntimeError(
            "migration 0010 seals the tool's signing keys and needs LTI_TOOL_SECRET_KEY: run "
            "`lti-tool init` with the tool's settings"
        )
    return SecretBox(secret) if secret else None


def upgrade() -> None:
    # Read and check the secret before any DDL: SQLite does not roll DDL back.
    connection = op.get_bind()
    rows = connection.execute(sa.select(_keys.c.id, _keys.c.private_pem)).all()
    box = _box(len(rows))
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("private_key_sealed", sa.Text(), nullable=True))
    for key_id, pem in rows:
        assert box is not None
        connection.execute(
            _keys.update().where(_keys.c.id == key_id).values(private_key_sealed=box.seal(pem))
        )
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.alter_column("private_key_sealed", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("private_pem")


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_keys.c.id, _keys.c.private_key_sealed)).all()
    box = _box(len(rows))
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("private_pem", sa.Text(), nullable=True))
    for key_id, sealed in rows:
        assert box is not None
        connection.execute(
            _keys.update().where(_keys.c.id == key_id).values(private_pem=box.open(sealed))
        )
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.alter_column("private_pem", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("private_key_sealed")
