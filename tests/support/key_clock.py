"""A clock for the tool's signing keys that a test moves, and a platform's copy of the tool's
JWKS kept for as long as the ``Cache-Control`` it was served with allows (what a platform, or
a proxy in front of the tool, does)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from lti_tool.lti import keys as keys_module
from lti_tool.persistence.models import utcnow


class KeyClock:
    """Replaces ``utcnow`` where the signing keys read it: which key signs, which are
    published, what ``keys list`` says."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = utcnow()
        monkeypatch.setattr(keys_module, "utcnow", lambda: self.now)

    def advance(self, by: dt.timedelta) -> None:
        self.now += by


class CachedToolJwks:
    """The tool's JWKS as a platform that honours ``max-age`` sees it: fetched once, then
    served from its copy until that copy is older than ``max-age`` by ``clock``."""

    def __init__(self, client: FlaskClient, clock: KeyClock) -> None:
        self._client = client
        self._clock = clock
        self._copy: dict[str, Any] | None = None
        self._fresh_until = clock.now
        self.fetches = 0

    def __call__(self) -> dict[str, Any]:
        if self._copy is None or self._clock.now >= self._fresh_until:
            response = self._client.get("/.well-known/jwks.json")
            found = re.search(r"max-age=(\d+)", response.headers.get("Cache-Control", ""))
            assert found is not None, "the JWKS is served without a max-age"
            self._copy = response.get_json()
            self._fresh_until = self._clock.now + dt.timedelta(seconds=int(found.group(1)))
            self.fetches += 1
        return self._copy

    def kids(self) -> list[str]:
        return [k["kid"] for k in self()["keys"]]
