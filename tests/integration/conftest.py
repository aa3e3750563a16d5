"""Fixtures of the integration tests: a bare migrated database on each SQL backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lti_tool.persistence.db import Database
from lti_tool.settings import normalise_database_url
from tests.support.backends import MigratedBackends, backend_settings


@pytest.fixture(params=("sqlite", "postgres"))
def db(
    request: pytest.FixtureRequest, tmp_path: Path, migrated: MigratedBackends
) -> Iterator[Database]:
    """An empty database migrated to head, without the tool around it."""
    with backend_settings(str(request.param), tmp_path, migrated) as overrides:
        database = Database(normalise_database_url(overrides["database_url"]))
        yield database
        database.engine.dispose()
