"""Short-lived shared storage: OIDC state, nonces, launch sessions, caches.

Any worker of any instance must be able to serve any step of a launch, so nothing here lives
in process memory: rows in the database by default, keys in Redis when ``redis_url`` is set.
pylti1p3's own storages are per process (``FlaskCacheDataStorage`` on a local cache) or never
consume a nonce; ``take`` here is an atomic get-and-delete, so only one request can win.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from lti_tool.persistence.db import Database
from lti_tool.persistence.models import Ephemeral, utcnow
from lti_tool.persistence.upsert import upsert
from lti_tool.redis_connection import settings_redis_client
from lti_tool.settings import Settings


class EphemeralStore(Protocol):
    """Keyed JSON values with a time to live, in name spaces (``kind``)."""

    backend: str

    def put(self, kind: str, key: str, value: dict[str, Any], ttl: int) -> None:
        """Store ``value``, replacing any previous one."""

    def put_many(self, kind: str, values: dict[str, dict[str, Any]], ttl: int) -> None:
        """``put`` for several keys at once (one transaction, or one Redis round trip)."""

    def put_entries(self, entries: Sequence[tuple[str, str, dict[str, Any]]], ttl: int) -> None:
        """``put`` for several (kind, key, value) at once, of any kinds (one transaction, or
        one Redis round trip): a login's state and nonce."""

    def add(self, kind: str, key: str, value: dict[str, Any], ttl: int) -> bool:
        """Store ``value`` only if no live value exists; True when stored."""

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        """The live value, or None."""

    def take(self, kind: str, key: str) -> dict[str, Any] | None:
        """Atomically read and delete: of concurrent callers at most one gets the value."""

    def delete(self, kind: str, key: str) -> None:
        """Forget the value."""

    def delete_matching(self, kind: str | None, match: Callable[[dict[str, Any]], bool]) -> int:
        """Forget every value of ``kind`` (every kind when None) that ``match`` accepts,
        expired or not (an expired row still holds what it held); how many went. Reads the
        whole name space: for rare acts (erasing a person), not for requests."""

    def purge_expired(self) -> int:
        """Delete values past their time to live; how many went (Redis expires its own)."""

    def ping(self) -> None:
        """Raise if the backend cannot be reached."""


class DatabaseStore:
    """The ``ephemeral`` table. Expired rows are ignored and cleared as new ones are added."""

    backend = "database"

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, kind: str, key: str, value: dict[str, Any], ttl: int) -> None:
        self.put_many(kind, {key: value}, ttl)

    def put_many(self, kind: str, values: dict[str, dict[str, Any]], ttl: int) -> None:
        self.put_entries([(kind, key, value) for key, value in values.items()], ttl)

    def put_entries(self, entries: Sequence[tuple[str, str, dict[str, Any]]], ttl: int) -> None:
        if not entries:
            return
        expires = utcnow() + dt.timedelta(seconds=ttl)
        # The last value of a (kind, key) given twice wins, as with one put after another.
        latest = {(kind, key): value for kind, key, value in entries}
        with self._db.unit_of_work() as session:
            # One upsert: two writers of the same key must not collide (a read-then-insert
            # "merge" did, under concurrent sign-in attempts).
            rows = [
                {"kind": kind, "key": key, "value": value, "expires_at": expires}
                for (kind, key), value in latest.items()
            ]
            upsert(session, Ephemeral, rows, ["kind", "key"], ["value", "expires_at"])

    def add(self, kind: str, key: str, value: dict[str, Any], ttl: int) -> bool:
        now = utcnow()
        with self._db.unit_of_work() as session:
            session.execute(
                delete(Ephemeral).where(
                    Ephemeral.kind == kind, Ephemeral.key == key, Ephemeral.expires_at <= now
                )
            )
        try:
            with self._db.unit_of_work() as session:
                session.add(
                    Ephemeral(
                        kind=kind,
                        key=key,
                        value=value,
                        expires_at=now + dt.timedelta(seconds=ttl),
                    )
                )
        except IntegrityError:
            return False
        return True

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        with self._db.read_only() as session:
            row = session.scalar(
                select(Ephemeral.value).where(
                    Ephemeral.kind == kind, Ephemeral.key == key, Ephemeral.expires_at > utcnow()
                )
            )
        return dict(row) if row is not None else None

    def take(self, kind: str, key: str) -> dict[str, Any] | None:
        # One DELETE … RETURNING statement: the row goes to exactly one caller.
        with self._db.unit_of_work() as session:
            result = session.execute(
                delete(Ephemeral)
                .where(Ephemeral.kind == kind, Ephemeral.key == key)
                .returning(Ephemeral.value, Ephemeral.expires_at)
            ).first()
        if result is None:
            return None
        value, expires_at = result
        if expires_at <= utcnow():
            return None
        return dict(value)

    def delete(self, kind: str, key: str) -> None:
        with self._db.unit_of_work() as session:
            session.execute(delete(Ephemeral).where(Ephemeral.kind == kind, Ephemeral.key == key))

    def purge_expired(self) -> int:
        """Delete dead rows; returns how many went."""
        with self._db.unit_of_work() as session:
            result = session.execute(delete(Ephemeral).where(Ephemeral.expires_at <= utcnow()))
        return int(getattr(result, "rowcount", 0) or 0)

    def delete_matching(self, kind: str | None, match: Callable[[dict[str, Any]], bool]) -> int:
        # Expired rows too: until the purge runs they still hold names and emails.
        query = select(Ephemeral.kind, Ephemeral.key, Ephemeral.value)
        if kind is not None:
            query = query.where(Ephemeral.kind == kind)
        with self._db.unit_of_work() as session:
            found = [
                (row_kind, key)
                for row_kind, key, value in session.execute(query)
                if isinstance(value, dict) and match(value)
            ]
            for row_kind, key in found:
                session.execute(
                    delete(Ephemeral).where(Ephemeral.kind == row_kind, Ephemeral.key == key)
                )
        return len(found)

    def ping(self) -> None:
        with self._db.read_only() as session:
            session.execute(select(1))


class RedisStore:
    """Redis keys ``lti_tool:<kind>:<key>`` with native expiry; ``take`` is GETDEL."""

    backend = "redis"

    def __init__(self, client: Any, prefix: str = "lti_tool") -> None:
        import redis

        # Made by lti_tool/redis_connection.py: connect and answer deadlines, one retry.
        self._redis = client
        self._prefix = prefix
        self._errors = redis.exceptions

    def _key(self, kind: str, key: str) -> str:
        return f"{self._prefix}:{kind}:{key}"

    def put(self, kind: str, key: str, value: dict[str, Any], ttl: int) -> None:
        self._redis.set(self._key(kind, key), json.dumps(value), ex=max(1, ttl))

    def put_many(self, kind: str, values: dict[str, dict[str, Any]], ttl: int) -> None:
        self.put_entries([(kind, key, value) for key, value in values.items()], ttl)

    def put_entries(self, entries: Sequence[tuple[str, str, dict[str, Any]]], ttl: int) -> None:
        if not entries:
            return
        pipeline = self._redis.pipeline(transaction=False)
        for kind, key, value in entries:
            pipeline.set(self._key(kind, key), json.dumps(value), ex=max(1, ttl))
        pipeline.execute()

    def add(self, kind: str, key: str, value: dict[str, Any], ttl: int) -> bool:
        return bool(
            self._redis.set(self._key(kind, key), json.dumps(value), ex=max(1, ttl), nx=True)
        )

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        raw = self._redis.get(self._key(kind, key))
        return _decode(raw)

    def take(self, kind: str, key: str) -> dict[str, Any] | None:
        raw = self._redis.getdel(self._key(kind, key))
        return _decode(raw)

    def delete(self, kind: str, key: str) -> None:
        self._redis.delete(self._key(kind, key))

    def delete_matching(self, kind: str | None, match: Callable[[dict[str, Any]], bool]) -> int:
        gone = 0
        pattern = self._key(kind, "*") if kind is not None else f"{self._prefix}:*"
        for name in self._redis.scan_iter(match=pattern, count=500):
            try:
                value = _decode(self._redis.get(name))
            except (ValueError, self._errors.ResponseError):
                continue  # not one of ours (another type or not JSON under the prefix)
            if value is not None and match(value):
                gone += int(self._redis.delete(name))
        return gone

    def purge_expired(self) -> int:
        return 0  # keys carry their own expiry

    def ping(self) -> None:
        self._redis.ping()

    @property
    def client(self) -> Any:
        return self._redis


def _decode(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    value = json.loads(raw)
    return value if isinstance(value, dict) else None


def make_store(db: Database, settings: Settings) -> EphemeralStore:
    """Redis when configured, the database otherwise."""
    if settings.redis_url:
        return RedisStore(settings_redis_client(settings), settings.redis_prefix)
    return DatabaseStore(db)
