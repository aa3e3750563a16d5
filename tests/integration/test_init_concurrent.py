"""`lti-tool init` started by several machines (or containers) of one deployment at once
against one PostgreSQL database, as a deploy step per machine does. Alembic takes no lock of
its own: all but one failed with PostgreSQL's `duplicate key value violates unique constraint
"pg_type_typname_nsp_index"`, and each that got through made a signing key of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from lti_tool.settings import normalise_database_url
from tests.support.backends import postgres_schema

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

INITS = 3


def test_inits_at_once_all_succeed_with_one_signing_key(tmp_path: Path) -> None:
    with postgres_schema() as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LTI_TOOL_")}
        env.update(
            LTI_TOOL_ENV="production",
            LTI_TOOL_DATABASE_URL=url,
            LTI_TOOL_SECRET_KEY="production secret " * 3,
            LTI_TOOL_BASE_URL="https://pathway.example.ac.uk",
            PYTHONPATH=os.pathsep.join(p for p in (os.getcwd(), env.get("PYTHONPATH")) if p),
        )
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "lti_tool.cli", "init"],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(INITS)
        ]
        outputs = [(run.communicate(timeout=300)[0], run.returncode) for run in runs]
        engine = sa.create_engine(normalise_database_url(url), poolclass=sa.NullPool)
        with engine.connect() as connection:
            keys = connection.execute(sa.text("SELECT count(*) FROM signing_keys")).scalar()
        engine.dispose()
    for output, code in outputs:
        assert code == 0, outputs
        assert "database ready" in output
    assert keys == 1
