"""A platform rotates its signing key while a class launches: the first launch signed with the
new key has one worker refetch the key set, and a launch on another worker during that fetch
must wait for it, not be refused as "unknown kid". Two workers' key caches over the real
Redis; the platform's answer is held until the second launch has found the refetch taken."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from lti_tool.errors import LaunchRefused
from lti_tool.lti.platform_keys import PlatformKeys
from lti_tool.lti.store import RedisStore
from tests.support.backends import REDIS_URL
from tests.support.outage_servers import CONDITION_SECONDS

pytestmark = [pytest.mark.redis]
URL = "https://moodle.example.ac.uk/mod/lti/certs.php"


def jwk(kid: str) -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    found: dict[str, Any] = RSAAlgorithm.to_jwk(key, as_dict=True)
    return {**found, "kid": kid, "alg": "RS256", "use": "sig"}


class Platform(requests.Session):
    """The platform's key set URL; ``hold`` keeps its next answer until ``answer`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.keys = {"keys": [jwk("old")]}
        self.hold = False
        self.asked, self.answer = threading.Event(), threading.Event()

    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self.hold:
            self.asked.set()
            assert self.answer.wait(CONDITION_SECONDS)
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json"
        response._content = json.dumps(self.keys).encode()
        return response


class Watched(RedisStore):
    """A worker's view of the shared store that says when it found a refetch slot taken."""

    def __init__(self, client: Any, prefix: str) -> None:
        super().__init__(client, prefix)
        self.slot_taken = threading.Event()

    def add(self, kind: str, key: str, value: dict[str, Any], ttl: int) -> bool:
        added = super().add(kind, key, value, ttl)
        if kind == "jwksfetch" and not added:
            self.slot_taken.set()
        return added


@pytest.fixture
def client() -> Iterator[Any]:
    connection = redis.Redis.from_url(REDIS_URL)
    prefix = "test_" + uuid.uuid4().hex[:10]
    connection.prefix = prefix  # type: ignore[attr-defined]
    yield connection
    for key in connection.scan_iter(f"{prefix}:*"):
        connection.delete(key)
    connection.close()


def test_a_launch_during_another_workers_refetch_waits_for_the_new_key(client: Any) -> None:
    platform = Platform()
    stores = [Watched(client, client.prefix) for _ in range(2)]
    first, second = (PlatformKeys(s, platform, platform, 3600, 10) for s in stores)
    for worker in (first, second):  # both workers know the old key
        assert worker.verification_key(URL, "old", "RS256") is not None

    platform.keys = {"keys": [jwk("old"), jwk("new")]}  # the platform rotates
    platform.hold = True
    found: dict[str, Any] = {}

    def launch(name: str, worker: PlatformKeys) -> None:
        try:
            found[name] = worker.verification_key(URL, "new", "RS256")
        except LaunchRefused as exc:
            found[name] = exc.code

    threads = [threading.Thread(target=launch, args=("first", first), daemon=True)]
    threads[0].start()
    try:
        assert platform.asked.wait(CONDITION_SECONDS), "the first worker never refetched"
        threads.append(threading.Thread(target=launch, args=("second", second), daemon=True))
        threads[1].start()
        assert stores[1].slot_taken.wait(CONDITION_SECONDS) or not threads[1].is_alive()
    finally:
        platform.answer.set()
        for thread in threads:
            thread.join(CONDITION_SECONDS)
    assert not any(thread.is_alive() for thread in threads)
    assert found["first"] is not None and not isinstance(found["first"], str)
    assert not isinstance(found["second"], str), found["second"]
