"""How many tool-admin sign-ins may fail, counted in the shared store.

Every attempt first takes a single-use slot in the store in each count it belongs to (``add``
is atomic on both backends), and only then is the password checked, so concurrent guesses
cannot slip past the limits. Per 15 minutes:

- a browser that has signed in here before (a known client, ``admin/known_client.py``) is
  limited by its own failures only: five. Nobody else's failures lock it out;
- any other attempt counts against its network address first (an IPv6 client's /64, as
  ``web/rate_limit.client_key`` counts it): ten failures from one address
  (whatever the usernames) throttle that address, five for one username from one address lock
  that username there; and against the username: twenty failures from anywhere lock it for
  every browser that is not a known client.

Only failures count: a success gives back the slot it took in every count (``succeeded``),
and starts the count of that browser (or username and address) again, but no other, so the
admin's own sign-in does not hand a guesser a fresh allowance.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from lti_tool.container import Services
from lti_tool.errors import ToolError
from lti_tool.logs import log_event

log = logging.getLogger("lti_tool.admin")

FAILURE_KIND = "admin_fail"
LOCK_KIND = "admin_lock"
MAX_FAILURES = 5  # per username and address, and per known client
MAX_FAILURES_PER_ADDRESS = 10  # per address, whatever the usernames
MAX_FAILURES_ANYWHERE = 20  # per username, for browsers that are not known clients
LOCKOUT_SECONDS = 15 * 60
WAIT = "Wait 15 minutes and try again."


class LockedOut(ToolError):
    status = 429
    title = "Too many attempts"


@dataclass(frozen=True)
class _Bucket:
    key: str
    limit: int
    refusal: str


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt: the counts it belongs to (its own first) and the slot it took in
    each, before its password is checked."""

    own: _Bucket
    taken: list[tuple[_Bucket, int]] = field(default_factory=list)


def begin_attempt(
    services: Services, username: str, address: str, known_client: str | None
) -> Attempt:
    """Take this attempt's slot in every count it belongs to; LockedOut, with the words of
    the first count that refuses, when one is locked or full (the slot stays taken: an
    attempt refused counts as a failure)."""
    buckets = _buckets(username, address, known_client)
    attempt = Attempt(own=buckets[0] if known_client is not None else buckets[1])
    refused = next((b for b in buckets if _locked(services, b.key)), None)
    for bucket in buckets if refused is None else []:
        slot = _take_slot(services, bucket.key, bucket.limit)
        if slot is None:
            refused = bucket
            break
        attempt.taken.append((bucket, slot))
    if refused is not None:
        log_event(
            log,
            logging.WARNING,
            "admin login while locked out",
            username=username[:64],
            known_client=known_client is not None,
        )
        raise LockedOut("locked_out", refused.refusal)
    return attempt


def succeeded(services: Services, attempt: Attempt) -> None:
    """The password was right: the attempt was no failure. Its slots are given back, and
    only its own count (this browser's, or this username's at this address) starts again."""
    for bucket, slot in attempt.taken:
        services.store.delete(FAILURE_KIND, f"{bucket.key}.{slot}")
        # A lock set while this attempt held its slot (by taking the last one, or by an
        # attempt that found none free) counted this success: the slots alone now say how
        # many failures are left, and the next attempt to find none free locks again.
        services.store.delete(LOCK_KIND, bucket.key)
    for slot in range(attempt.own.limit):
        services.store.delete(FAILURE_KIND, f"{attempt.own.key}.{slot}")
    services.store.delete(LOCK_KIND, attempt.own.key)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _locked(services: Services, key: str) -> bool:
    return services.store.get(LOCK_KIND, key) is not None


def _take_slot(services: Services, key: str, limit: int) -> int | None:
    """Take one of ``limit`` attempt slots; the last one taken locks ``key``. The slot
    taken, or None when none is left."""
    for slot in range(limit):
        if services.store.add(FAILURE_KIND, f"{key}.{slot}", {}, LOCKOUT_SECONDS):
            if slot == limit - 1:
                services.store.put(LOCK_KIND, key, {}, LOCKOUT_SECONDS)
            return slot
    services.store.put(LOCK_KIND, key, {}, LOCKOUT_SECONDS)
    return None


def _buckets(username: str, address: str, known_client: str | None) -> list[_Bucket]:
    """What this attempt counts against, in the order its refusals are told."""
    user = username.strip().lower()
    if known_client is not None:
        message = f"Too many failed sign-ins from this browser. {WAIT}"
        return [_Bucket(_hash(f"client|{known_client}|{user}"), MAX_FAILURES, message)]
    locked = f"Too many failed sign-ins for this username. {WAIT}"
    return [
        _Bucket(
            _hash(f"address|{address}"),
            MAX_FAILURES_PER_ADDRESS,
            f"Too many failed sign-ins from your network address. {WAIT}",
        ),
        _Bucket(_hash(f"{user}|{address}"), MAX_FAILURES, locked),
        _Bucket(
            _hash(user),
            MAX_FAILURES_ANYWHERE,
            f"{locked} A browser that has signed in here before can still sign in.",
        ),
    ]
