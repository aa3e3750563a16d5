"""Everything the tool keeps, as text: every row of every table and, with Redis, every key
under the tool's prefix. Tests search it for what must not be there (a person's name after
their erasure, a token or private key in the clear)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def dump_database(services: Any) -> str:
    """Every row of every table the database holds (not only the models'), one per line."""
    engine = services.db.engine
    lines: list[str] = []
    with engine.connect() as connection:
        for table_name in sa.inspect(connection).get_table_names():
            table = sa.Table(table_name, sa.MetaData(), autoload_with=connection)
            for row in connection.execute(sa.select(table)):
                lines.append(f"{table_name}: {tuple(row)!r}")
    return "\n".join(lines)


def dump_redis(services: Any) -> str:
    """Every Redis key that names the tool's prefix (the store's keys, the RQ queue's)."""
    settings = services.settings
    if not settings.redis_url:
        return ""
    import redis

    client = redis.Redis.from_url(settings.redis_url)
    lines: list[str] = []
    try:
        for name in client.scan_iter(match=f"*{settings.redis_prefix}*"):
            kind = client.type(name).decode()
            value: Any
            if kind == "string":
                value = client.get(name)
            elif kind == "hash":
                value = client.hgetall(name)
            elif kind == "list":
                value = client.lrange(name, 0, -1)
            elif kind == "set":
                value = client.smembers(name)
            elif kind == "zset":
                value = client.zrange(name, 0, -1)
            else:
                value = kind
            lines.append(f"{name.decode()}: {_text(value)}")
    finally:
        client.close()
    return "\n".join(lines)


def dump_everything(services: Any) -> str:
    return dump_database(services) + "\n" + dump_redis(services)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return repr({_text(k): _text(v) for k, v in value.items()})
    if isinstance(value, (list, set)):
        return repr([_text(v) for v in value])
    return repr(value)
