"""The tool's private signing key is sealed at rest: a dump of the database holds no private
key material, migration 0010 seals keys stored in the old plaintext format, rotation and the
published JWKS are unchanged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jwt
import pytest
import sqlalchemy as sa
from flask import Flask

from lti_tool.container import Services
from lti_tool.crypto import SecretBox
from lti_tool.lti.keys import (
    SigningKeyUnreadable,
    active_signing_key,
    generate_key_material,
    private_pem,
    rotate_signing_key,
)
from lti_tool.persistence.migrate import downgrade, upgrade
from lti_tool.persistence.models import SigningKey
from lti_tool.settings import normalise_database_url
from tests.support.backends import postgres_schema
from tests.support.dump import dump_database, dump_everything

SECRET = "migration-test-secret"


def _pem_body(pem: str) -> str:
    """A line from the middle of the PEM: what a dump must not contain."""
    return pem.splitlines()[5]


def test_a_database_dump_holds_no_private_key(tool: Flask) -> None:
    # Attack: anyone with a database dump or backup read the PEM and signed messages (deep
    # linking answers, service-token requests) as the tool.
    services: Services = tool.extensions["lti_tool"]
    with services.db.read_only() as session:
        key = active_signing_key(session)
        assert key is not None
        pem = private_pem(key, services.secrets)
    assert "PRIVATE KEY" in pem

    dump = dump_everything(services)
    assert key.kid in dump  # the row is there…
    assert "PRIVATE KEY" not in dump and _pem_body(pem) not in dump  # …its secret half sealed


def test_rotation_still_works_and_the_jwks_is_unchanged(tool: Flask) -> None:
    services: Services = tool.extensions["lti_tool"]
    client = tool.test_client()
    before = client.get("/.well-known/jwks.json").get_json()["keys"]
    with services.db.read_only() as session:
        old = active_signing_key(session)
        assert old is not None
    # The published key is the public half of the sealed one.
    assert before == [dict(old.public_jwk)]
    assert {"kty", "e", "n", "kid", "alg", "use"} <= set(before[0])
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(before[0])

    with services.db.unit_of_work() as session:
        new = rotate_signing_key(session, dt.timedelta(days=7), services.secrets)
        token = jwt.encode(
            {"sub": "x"},
            private_pem(new, services.secrets),
            algorithm="RS256",
            headers={"kid": new.kid},
        )
    after = {k["kid"]: k for k in client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert list(after) == [new.kid, old.kid]
    assert jwt.decode(token, jwt.PyJWK(after[new.kid]).key, algorithms=["RS256"])["sub"] == "x"
    assert "PRIVATE KEY" not in dump_database(services)


def test_a_key_sealed_under_another_secret_is_refused_plainly(tool: Flask) -> None:
    services: Services = tool.extensions["lti_tool"]
    with services.db.read_only() as session:
        key = active_signing_key(session)
        assert key is not None
    with pytest.raises(SigningKeyUnreadable) as refused:
        private_pem(key, SecretBox("another secret"))
    assert refused.value.status == 503 and "LTI_TOOL_SECRET_KEY" in refused.value.message


def _migrate_old_format_row(url: str) -> None:
    url = normalise_database_url(url)
    upgrade(url, "0009")
    material = generate_key_material()
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO signing_keys (kid, private_pem, public_jwk, created_at) "
                "VALUES (:kid, :pem, :jwk, :created)"
            ),
            {
                "kid": material.kid,
                "pem": material.private_pem,
                "jwk": '{"kty": "RSA"}',
                "created": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            },
        )
    # Without the secret the migration stops with a clear message and changes nothing.
    with pytest.raises(RuntimeError, match="LTI_TOOL_SECRET_KEY"):
        upgrade(url)
    upgrade(url, secret_key=SECRET)

    with engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("signing_keys")}
        dumped = "\n".join(
            repr(tuple(row)) for row in connection.execute(sa.text("SELECT * FROM signing_keys"))
        )
        sealed = connection.execute(sa.text("SELECT private_key_sealed FROM signing_keys")).scalar()
    assert "private_pem" not in columns
    assert "PRIVATE KEY" not in dumped and _pem_body(material.private_pem) not in dumped
    key = SigningKey(kid=material.kid, private_key_sealed=str(sealed), public_jwk={})
    assert private_pem(key, SecretBox(SECRET)) == material.private_pem

    # And back: the downgrade unseals it.
    downgrade(url, "0009", secret_key=SECRET)
    with engine.connect() as connection:
        restored = connection.execute(sa.text("SELECT private_pem FROM signing_keys")).scalar()
    assert restored == material.private_pem
    engine.dispose()


def test_migration_seals_an_old_format_key_on_sqlite(tmp_path: Path) -> None:
    _migrate_old_format_row(f"sqlite:///{tmp_path / 'old.sqlite3'}")


def test_migration_seals_an_old_format_key_on_postgresql() -> None:
    with postgres_schema() as url:
        _migrate_old_format_row(url)
