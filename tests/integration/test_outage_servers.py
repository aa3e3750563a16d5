"""The outage servers the outage tests stand on do what they say: a Redis that stops and
starts empty, a PostgreSQL proxy that passes, refuses and hangs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from lti_tool.settings import normalise_database_url
from tests.support.backends import PG_URL
from tests.support.outage_servers import PostgresProxy, RedisServer


@pytest.mark.redis
def test_redis_server_stops_and_starts_empty(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis") as server:
        client = redis.Redis.from_url(server.url, socket_timeout=2, socket_connect_timeout=2)
        client.set("kept", "1")
        assert client.get("kept") == b"1"
        server.stop()
        with pytest.raises(redis.ConnectionError):
            client.get("kept")
        server.start()
        assert client.get("kept") is None


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(
        normalise_database_url(url), poolclass=sa.NullPool, connect_args={"connect_timeout": 2}
    )


@pytest.mark.postgres
def test_postgres_proxy_passes_refuses_and_hangs() -> None:
    with PostgresProxy(PG_URL) as proxy:
        engine = _engine(proxy.url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar() == 1
        proxy.refuse()
        with pytest.raises(sa.exc.OperationalError):
            engine.connect().close()
        proxy.hang()
        started = time.monotonic()
        with pytest.raises(sa.exc.OperationalError):
            engine.connect().close()  # connect_timeout: the proxy accepts, then never answers
        assert time.monotonic() - started < 15
        proxy.restore()
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar() == 1
