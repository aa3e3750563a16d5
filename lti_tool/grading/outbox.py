"""The one order grade outbox rows are locked in: ascending id, in every transaction.

A multi-row ``UPDATE`` locks its rows in whatever order its plan reads them, and a
transaction that changes rows in several statements locks them in the order of its
statements. Two such transactions on PostgreSQL could each hold a row the other waits for
(a results import superseding a file's rows in the file's order while a press gives the
course's waiting rows to its sync, or a sync's workers claim them): a deadlock, one of them
refused. So every statement that changes several outbox rows locks them first with
``SELECT … ORDER BY id FOR UPDATE`` (``update_in_order``); a transaction that touches
several sets locks their union in one such statement before its first change
(``lock_in_order``); and a transaction that changes several results (an import, a release)
supersedes their older rows in one statement at its end (``together``), after every result
it changes is locked, never a result at a time. Two of them can then wait for each other, but
never both at once. The claim lease (``sync_records.ClaimLease``) skips locked rows rather
than wait. SQLite has one writer at a time: ``FOR UPDATE`` is not written there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from lti_tool.persistence.models import OutboxRow

SUPERSEDABLE = ("pending", "failed", "refused")  # a result's older rows a newer value replaces
UPDATE_SLICE = 10_000  # locked ids named in one UPDATE (well under any bind-parameter limit)
_TOGETHER = "grading.outbox_together"


def lock_in_order(session: Session, *where: ColumnElement[bool]) -> list[int]:
    """Lock the outbox rows matching ``where`` in ascending id order, until the transaction
    ends; their ids."""
    query = select(OutboxRow.id).where(*where).order_by(OutboxRow.id).with_for_update()
    return list(session.scalars(query))


def update_in_order(
    session: Session, where: tuple[ColumnElement[bool], ...], values: dict[str, Any]
) -> list[int]:
    """``UPDATE`` the outbox rows matching ``where`` with ``values``, locked first in id
    order; the ids of the rows changed. The ``UPDATE`` names the locked ids, a slice of them
    at a time (``UPDATE_SLICE``): a course may hold more rows than a statement takes bind
    parameters (PostgreSQL's protocol: 65,535), and every row is locked already, so the
    slices change nothing of the order."""
    ids = lock_in_order(session, *where)
    changed: list[int] = []
    for start in range(0, len(ids), UPDATE_SLICE):
        part = ids[start : start + UPDATE_SLICE]
        statement = (
            update(OutboxRow)
            .where(OutboxRow.id.in_(part), *where)
            .values(**values)
            .returning(OutboxRow.id)
        )
        changed.extend(session.scalars(statement))
    return sorted(changed)


class _Writes:
    """The outbox changes of a transaction that changes several results, written at once."""

    def __init__(self) -> None:
        self.superseded: set[int] = set()
        self.new: list[OutboxRow] = []

    def write(self, session: Session) -> None:
        if self.superseded:
            _supersede(session, self.superseded)
        session.add_all(self.new)


@contextmanager
def together(session: Session) -> Iterator[None]:
    """Within the block, ``supersede`` and ``add`` of this session wait for its end, where the
    older rows of every result are superseded in one statement (in id order), then the new
    rows are added. Nothing is written when the block raises."""
    writes = _Writes()
    session.info[_TOGETHER] = writes
    try:
        yield
    finally:
        session.info.pop(_TOGETHER, None)
    writes.write(session)


def supersede(session: Session, result_pk: int) -> None:
    """The result's older values still pending, failed or refused are not sent (a sync
    claims only pending rows, so one already started leaves them too)."""
    writes = session.info.get(_TOGETHER)
    if isinstance(writes, _Writes):
        writes.superseded.add(result_pk)
    else:
        _supersede(session, {result_pk})


def add(session: Session, row: OutboxRow) -> None:
    """A result's new value for the gradebook."""
    writes = session.info.get(_TOGETHER)
    if isinstance(writes, _Writes):
        writes.new.append(row)
    else:
        session.add(row)


def _supersede(session: Session, result_pks: set[int]) -> None:
    update_in_order(
        session,
        (OutboxRow.result_pk.in_(sorted(result_pks)), OutboxRow.status.in_(SUPERSEDABLE)),
        {"status": "superseded"},
    )
