"""Alembic, driven from code: ``lti-tool init`` and the tests call :func:`upgrade`."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from lti_tool.persistence.revision import MIGRATIONS_DIR


def alembic_config(url: str, secret_key: str | None = None) -> Config:
    config = Config()
    # Migrations that seal or unseal secrets (0010: the signing keys) read it from here.
    config.attributes["secret_key"] = secret_key
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would treat a % in a password as a reference.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head", secret_key: str | None = None) -> None:
    """Bring the database at ``url`` to ``revision``. ``secret_key`` (LTI_TOOL_SECRET_KEY)
    is needed when stored secrets must be sealed on the way (an existing signing key)."""
    command.upgrade(alembic_config(url, secret_key), revision)


def downgrade(url: str, revision: str, secret_key: str | None = None) -> None:
    command.downgrade(alembic_config(url, secret_key), revision)
