"""What a validated launch tells the tool about its user, context and resource link.

The four rows are first read together (one ``SELECT``, each by its unique key); only a row
that is missing or whose values differ from what the launch says is written, with one
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (PostgreSQL and SQLite both have it), so two
first launches of the same person cannot collide. A returning person whose details did not
change writes nothing: a whole class launching at once does not queue on its course's
``contexts`` row lock, and no row is rewritten only to move its ``updated_at`` (which now
says when a value last changed).
A membership's ``last_launch_at`` is kept to the hour (``LAUNCH_STAMP_EVERY``): it is only
moved when it is older than that, or older than the course's ``roster_asked_at`` (a roster
refresh asked the platform since: its answer must not mark this launch's member as left).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, literal, select
from sqlalchemy.orm import Session

from lti_tool.lti import claims as c
from lti_tool.lti.launch import ValidatedLaunch
from lti_tool.persistence.models import Base, Context, Membership, ResourceLink, User, utcnow
from lti_tool.persistence.upsert import upsert


def _text(value: Any, limit: int = 255) -> str | None:
    """A claim as bounded text, or None (claims from other platforms are not trusted in shape)."""
    if isinstance(value, str) and value.strip():
        return value.strip()[:limit]
    return None


# How stale a membership's ``last_launch_at`` may get before a launch moves it (what reads it
# needs days: "has launched", the retention clock, the privacy export).
LAUNCH_STAMP_EVERY = dt.timedelta(hours=1)


@dataclass
class _Row:
    """One row a launch records: found by ``keys``; written with ``values`` and ``touch``
    when it is missing, when one of ``values`` differs from what it holds, or when
    ``stale(row)`` says so. ``touch`` alone (a time stamp) never causes a write; ``read``
    names columns only read, in the same statement."""

    model: type[Base]
    keys: dict[str, Any]
    values: dict[str, Any]
    touch: dict[str, Any] = field(default_factory=dict)
    stale: Callable[[Mapping[str, Any]], bool] | None = None
    read: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        return ["id", *self.values, *self.touch, *self.read]


# The read statement of each shape of launch (which rows, which columns), built once per
# process: building it (aliases, joins) cost more than running it.
_READS: dict[tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...], Any] = {}


def _read_statement(rows: dict[str, _Row]) -> Any:
    shape = tuple((name, tuple(row.keys), tuple(row.columns)) for name, row in rows.items())
    statement = _READS.get(shape)
    if statement is not None:
        return statement
    joined: Any = select(literal(1).label("one")).subquery("launch_one")
    tables: dict[str, Any] = {}
    columns: list[Any] = []
    for name, keys, names in shape:
        table = rows[name].model.__table__.alias(f"launch_{name}")
        tables[name] = table
        if name == "membership":
            condition = and_(
                table.c.context_pk == tables["context"].c.id,
                table.c.user_pk == tables["user"].c.id,
            )
        else:
            condition = and_(*(table.c[key] == bindparam(f"{name}__{key}") for key in keys))
        joined = joined.outerjoin(table, condition)
        columns += [table.c[column].label(f"{name}__{column}") for column in names]
    statement = select(*columns).select_from(joined)
    _READS[shape] = statement
    return statement


def _read(session: Session, rows: dict[str, _Row]) -> dict[str, Mapping[str, Any] | None]:
    """What the rows hold now, in one statement: each found by its unique key (a left join
    from a one-row select, so a missing row reads as NULLs), the membership by the user's and
    the course's ids. None for a row that does not exist."""
    params = {
        f"{name}__{key}": value
        for name, row in rows.items()
        if name != "membership"
        for key, value in row.keys.items()
    }
    found = session.execute(_read_statement(rows), params).one()._mapping
    current: dict[str, Mapping[str, Any] | None] = {}
    for name, row in rows.items():
        held = {column: found[f"{name}__{column}"] for column in row.columns}
        current[name] = held if held["id"] is not None else None
    return current


class _Writer:
    """Writes a row only when it changed. ``before_first_write`` runs once, before the first
    write of the launch (nothing is run when nothing is written)."""

    def __init__(self, session: Session, before_first_write: Callable[[], None]) -> None:
        self._session = session
        self._before = before_first_write
        self.writes = 0

    def record(self, row: _Row, current: Mapping[str, Any] | None) -> int:
        """The row's id, after writing it if it is missing, changed or stale."""
        if current is not None:
            unchanged = all(current[name] == value for name, value in row.values.items())
            if unchanged and not (row.stale is not None and row.stale(current)):
                return int(current["id"])
        if self.writes == 0:
            self._before()
        self.writes += 1
        table: Any = row.model.__table__
        written = {**row.values, **row.touch}
        result = upsert(
            self._session, table, [{**row.keys, **written}], list(row.keys), written, [table.c.id]
        )
        return int(result.scalar_one())


def _user_values(claims: Mapping[str, Any]) -> dict[str, Any]:
    lis = claims.get(c.LIS)
    given, family = _text(claims.get("given_name")), _text(claims.get("family_name"))
    name = _text(claims.get("name")) or (" ".join(p for p in (given, family) if p) or None)
    values: dict[str, Any] = {
        "name": name,
        "given_name": given,
        "family_name": family,
        "email": _text(claims.get("email"), 320),
        "person_sourcedid": _text(lis.get("person_sourcedid")) if isinstance(lis, dict) else None,
    }
    # No Canvas user id from the custom claim: a link's own custom parameters replace the
    # tool's $Canvas.user.id with any literal (Canvas is asked instead: lms/canvas/identity.py).
    return values


def _context_values(claims: Mapping[str, Any], context_claim: Mapping[str, Any]) -> dict[str, Any]:
    types = context_claim.get("type")
    values: dict[str, Any] = {
        "title": _text(context_claim.get("title")),
        "label": _text(context_claim.get("label")),
        "types": [str(t) for t in types] if isinstance(types, list) else [],
    }
    nrps = claims.get(c.NRPS)
    if isinstance(nrps, dict) and _text(nrps.get("context_memberships_url"), 1024):
        values["nrps_url"] = _text(nrps.get("context_memberships_url"), 1024)
    ags = claims.get(c.AGS)
    if isinstance(ags, dict):
        if _text(ags.get("lineitems"), 1024):
            values["ags_lineitems_url"] = _text(ags.get("lineitems"), 1024)
        if isinstance(ags.get("scope"), list):
            values["ags_scopes"] = [str(s) for s in ags["scope"]]
    groups = claims.get(c.GROUPS_SERVICE)
    if isinstance(groups, dict):
        scopes = groups.get("scope")
        granted = isinstance(scopes, list) and c.GROUPS_SCOPE in scopes
        # Without the scope the platform would refuse the token: keep no URL to call.
        values["groups_url"] = _text(groups.get("context_groups_url"), 1024) if granted else None
        values["group_sets_url"] = (
            _text(groups.get("context_group_sets_url"), 1024) if granted else None
        )
    return values


def _nothing() -> None:
    return None


def record_launch(
    session: Session,
    launch: ValidatedLaunch,
    before_first_write: Callable[[], None] = _nothing,
) -> dict[str, Any]:
    """Record user, context, resource link and membership: one read of the four, then a
    write of each only when it is new or changed (see the module's note); return their keys
    for the session."""
    claims: Mapping[str, Any] = launch.claims
    now = utcnow()
    stamp = {"updated_at": now}
    user_values = _user_values(claims)
    rows = {
        "user": _Row(
            User,
            {"registration_id": launch.registration_pk, "sub": str(claims["sub"])},
            user_values,
            stamp,
        )
    }
    context_claim = claims.get(c.CONTEXT)
    context_id: str | None = None
    if isinstance(context_claim, dict) and context_claim.get("id"):
        context_id = str(context_claim["id"])[:255]
        rows["context"] = _Row(
            Context,
            {"deployment_pk": launch.deployment_pk, "context_id": context_id},
            _context_values(claims, context_claim),
            stamp,
            read=("roster_asked_at",),
        )
    link_claim = claims.get(c.RESOURCE_LINK)
    if isinstance(link_claim, dict) and link_claim.get("id"):
        ags = claims.get(c.AGS)
        custom = claims.get(c.CUSTOM)
        rows["link"] = _Row(
            ResourceLink,
            {
                "deployment_pk": launch.deployment_pk,
                "resource_link_id": str(link_claim["id"])[:255],
            },
            {
                "context_pk": None,  # the context's id, once known
                "title": _text(link_claim.get("title")),
                "ags_lineitem_url": (
                    _text(ags.get("lineitem"), 1024) if isinstance(ags, dict) else None
                ),
                "custom": (
                    {str(k): str(v) for k, v in custom.items() if k in c.LINK_CUSTOM}
                    if isinstance(custom, dict)
                    else {}
                ),
            },
            stamp,
        )
    if "context" in rows:
        roles = [str(r) for r in claims.get(c.ROLES, []) if isinstance(r, str)]
        rows["membership"] = _Row(
            Membership,
            {"context_pk": None, "user_pk": None},  # the ids, once known
            {"roles": roles, "status": "active"},
            {"last_launch_at": now},
        )

    current = _read(session, rows)
    if "membership" in rows:
        course = current["context"]
        asked = course["roster_asked_at"] if course is not None else None
        rows["membership"].stale = lambda row: (
            row["last_launch_at"] is None
            or row["last_launch_at"] <= now - LAUNCH_STAMP_EVERY
            or (asked is not None and row["last_launch_at"] < asked)
        )
    writer = _Writer(session, before_first_write)
    user_pk = writer.record(rows["user"], current["user"])
    context: dict[str, Any] | None = None
    if context_id is not None:
        values = rows["context"].values
        context = {
            "pk": writer.record(rows["context"], current["context"]),
            "id": context_id,
            "title": values["title"],
            "label": values["label"],
        }
    link_pk: int | None = None
    if "link" in rows:
        rows["link"].values["context_pk"] = context["pk"] if context else None
        link_pk = writer.record(rows["link"], current["link"])
    if context is not None:
        membership = rows["membership"]
        membership.keys.update(context_pk=context["pk"], user_pk=user_pk)
        writer.record(membership, current["membership"])
    return {
        "user_pk": user_pk,
        "name": user_values["name"],
        "email": user_values["email"],
        "context": context,
        "resource_link_pk": link_pk,
    }
