"""Erasure in the shared store: what the database erasure cannot reach.

The store holds values of several kinds, some of which carry a person:
- ``session`` (launch sessions): their ``user_pk``, name, email, sub, roles;
- ``flask_session`` (the Flask session of pages that carry the launch token): flashed messages,
  which may name a student to a member of staff;
- ``state`` (OIDC login state): the platform's ``login_hint``, often the person's id;
- ``refresh`` (the latest completion refresh per ``user_pk``);
- ``admin*`` (tool-admin sign-in, staged changes): an LMS admin's label.
Nonces, JWKS, tokens (sealed) and deep-linking settings name nobody. Rather than a list of
kinds that drifts, every value of every kind is checked, expired or not: one with the person's
``user_pk`` or any of their identifying strings (ids, email, names; whole words) goes. A value
of someone else that quotes the person goes too: it is short-lived and is made again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from lti_tool.lti.launch_context import session_user_pk
from lti_tool.lti.store import DatabaseStore
from lti_tool.persistence.models import User
from lti_tool.privacy.anonymise import identifying_strings

if TYPE_CHECKING:
    from lti_tool.container import Services


@dataclass(frozen=True)
class StoreSubject:
    """A person to forget in the store, captured before their user row is deleted."""

    user_pk: int
    needles: tuple[str, ...]


def store_subject(session: Session, user_pk: int) -> StoreSubject:
    """What identifies ``user_pk`` in stored values (read before erasing the user row)."""
    user = session.get(User, user_pk)
    needles = tuple(identifying_strings(user)) if user is not None else ()
    return StoreSubject(user_pk, needles)


def forget_in_store(services: Services, subjects: Iterable[StoreSubject]) -> int:
    """After the erasure is committed: delete every stored value that belongs to or names
    these people (their launch sessions end). How many values went."""
    subjects = list(subjects)
    if not subjects:
        return 0
    user_pks = {s.user_pk for s in subjects}
    needles = sorted({n for s in subjects for n in s.needles}, key=len, reverse=True)
    names = (
        re.compile("|".join(rf"(?<!\w){re.escape(n)}(?!\w)" for n in needles), flags=re.IGNORECASE)
        if needles
        else None
    )

    def holds_them(value: dict[str, Any]) -> bool:
        if value.get("user_pk") in user_pks or session_user_pk(value) in user_pks:
            return True
        return names is not None and names.search(json.dumps(value, ensure_ascii=False)) is not None

    gone = services.store.delete_matching(None, holds_them)
    if services.store.backend != DatabaseStore.backend:
        # With Redis, the table still holds what was written before Redis was configured.
        gone += DatabaseStore(services.db).delete_matching(None, holds_them)
    for user_pk in user_pks:
        services.store.delete("refresh", str(user_pk))  # keyed by user_pk, not holding it
    return gone
