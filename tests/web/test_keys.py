"""Key rotation both ways: the tool's own keys and the platform's."""

from __future__ import annotations

import datetime as dt

import jwt

from lti_tool.lti.keys import active_signing_key, private_pem, rotate_signing_key
from lti_tool.persistence.models import utcnow
from tests.support.lti import Launcher


def test_jwks_publishes_the_active_key_with_kid(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.get_json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig" and key["kid"]
    assert "d" not in key and "p" not in key  # never the private parts


def test_the_key_that_signs_verifies_against_the_published_jwks(launcher: Launcher) -> None:
    services = launcher.app.extensions["lti_tool"]
    db, box = services.db, services.secrets
    client = launcher.app.test_client()
    old_kid = client.get("/.well-known/jwks.json").get_json()["keys"][0]["kid"]
    # At once: the new key signs from now (a staged rotation: test_key_rotation_staged.py).
    with db.unit_of_work() as session:
        new_kid = rotate_signing_key(session, dt.timedelta(days=7), box, at_once=True).kid
    kids = [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]]
    assert kids == [new_kid]  # at once: the old key may be stolen, so it is withdrawn
    with db.read_only() as session:
        active = active_signing_key(session)
        assert active is not None and active.kid == new_kid
        # What the tool signs with verifies against its published JWKS.
        token = jwt.encode(
            {"sub": "x"}, private_pem(active, box), algorithm="RS256", headers={"kid": active.kid}
        )
    published = {k["kid"]: k for k in client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert jwt.decode(token, jwt.PyJWK(published[new_kid]).key, algorithms=["RS256"])["sub"] == "x"

    with db.unit_of_work() as session:
        rotate_signing_key(session, dt.timedelta(seconds=0), box, at_once=True)
    kids_after = [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]]
    assert new_kid not in kids_after and old_kid not in kids_after
    assert len(kids_after) == 1
    assert utcnow() is not None


def test_platform_key_rotation_is_picked_up_by_one_refetch(launcher: Launcher) -> None:
    services = launcher.app.extensions["lti_tool"]
    client = launcher.app.test_client()
    assert launcher.launch(client).status_code == 200  # JWKS fetched and cached
    fetched = services.platform_keys.fetch_count
    assert launcher.launch(client).status_code == 200
    assert services.platform_keys.fetch_count == fetched  # served from cache

    launcher.platform.rotate_key(keep_old=False)
    assert launcher.launch(client).status_code == 200  # unknown kid → one refetch
    assert services.platform_keys.fetch_count == fetched + 1
    assert launcher.launch(client).status_code == 200
    assert services.platform_keys.fetch_count == fetched + 1


def test_unknown_kid_refetches_at_most_once_per_interval(launcher: Launcher) -> None:
    from lti_tool.sandbox.platform import new_platform_key

    services = launcher.app.extensions["lti_tool"]
    client = launcher.app.test_client()
    assert launcher.launch(client).status_code == 200
    fetched = services.platform_keys.fetch_count
    stranger = new_platform_key()
    for _ in range(3):
        assert launcher.launch(client, key=stranger).status_code == 400
    assert services.platform_keys.fetch_count == fetched + 1
