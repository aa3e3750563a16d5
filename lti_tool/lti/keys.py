"""The tool's RSA signing keys: generated, rotated and published from the database.

The private key is sealed with the secret box (``crypto.py``, keyed from
``LTI_TOOL_SECRET_KEY``) before it is stored: a database dump or backup does not let anyone
sign launches' answers, deep-linking responses or service-token requests as the tool. The
public JWK is stored as is (it is published).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lti_tool.crypto import SecretBox, SecretUnreadable
from lti_tool.errors import ToolError
from lti_tool.persistence.models import SigningKey, utcnow

KEY_SIZE = 2048
ALGORITHM = "RS256"


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    created_at: dt.datetime
    retired_at: dt.datetime | None
    publish_until: dt.datetime | None

    @property
    def status(self) -> str:
        if self.retired_at is None:
            return "active"
        if self.publish_until and self.publish_until > utcnow():
            return "retired (still published)"
        return "retired"


def _public_jwk(private_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(private_key.public_key()))
    # RFC 7638 thumbprint: a kid that names the key itself.
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    jwk.update(
        kid=base64.urlsafe_b64encode(digest).rstrip(b"=").decode()[:32],
        alg=ALGORITHM,
        use="sig",
    )
    return jwk


@dataclass(frozen=True)
class KeyMaterial:
    """A freshly generated key before it is sealed: the PEM exists in memory only."""

    kid: str
    private_pem: str
    public_jwk: dict[str, Any]


class SigningKeyUnreadable(ToolError):
    status = 503
    title = "The tool's signing key cannot be read"


def generate_key_material() -> KeyMaterial:
    """A fresh RSA key pair (PKCS#8 PEM and its public JWK)."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwk = _public_jwk(private_key)
    return KeyMaterial(kid=jwk["kid"], private_pem=pem, public_jwk=jwk)


def new_signing_key(box: SecretBox, material: KeyMaterial | None = None) -> SigningKey:
    """A fresh (or the given) RSA key as an unsaved row, its private half sealed."""
    material = material or generate_key_material()
    return SigningKey(
        kid=material.kid,
        private_key_sealed=box.seal(material.private_pem),
        public_jwk=material.public_jwk,
    )


def private_pem(key: SigningKey, box: SecretBox) -> str:
    """The key's PKCS#8 PEM, unsealed for signing; never stored or logged."""
    try:
        return box.open(key.private_key_sealed)
    except SecretUnreadable:
        raise SigningKeyUnreadable(
            "signing_key_unreadable",
            "The tool's signing key cannot be decrypted: LTI_TOOL_SECRET_KEY is not the one it "
            "was saved with. Restore that secret, or make a new key with `lti-tool keys rotate` "
            "(platforms then fetch the new public key from the tool's JWKS).",
        ) from None


def readable_signing_key(session: Session, box: SecretBox) -> str | None:
    """The active key's kid, once its private half is known to unseal with ``box``; None
    when there is no key yet. ``SigningKeyUnreadable`` when LTI_TOOL_SECRET_KEY is not the
    one it was sealed under (a restore onto another server, a typo in the environment)."""
    key = active_signing_key(session)
    if key is None:
        return None
    private_pem(key, box)
    return key.kid


def ensure_signing_key(session: Session, box: SecretBox) -> SigningKey:
    """The active key, created when there is none (``lti-tool init``, first start)."""
    key = active_signing_key(session)
    if key is None:
        key = new_signing_key(box)
        session.add(key)
        session.flush()
    return key


def active_signing_key(session: Session) -> SigningKey | None:
    """The newest key that is not retired."""
    return session.scalar(
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())
        .limit(1)
    )


def rotate_signing_key(session: Session, grace_period: dt.timedelta, box: SecretBox) -> SigningKey:
    """Add a new active key; the previous ones stay published for ``grace_period``. Old keys
    are not unsealed: rotating also recovers from a lost LTI_TOOL_SECRET_KEY."""
    now = utcnow()
    for old in session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
        old.retired_at = now
        old.publish_until = now + grace_period
    key = new_signing_key(box)
    key.created_at = now
    session.add(key)
    session.flush()
    return key


def published_jwks(session: Session) -> dict[str, list[dict[str, Any]]]:
    """The JWKS document: the active key and retired keys still in their grace period."""
    now = utcnow()
    rows = session.scalars(
        select(SigningKey)
        .where(or_(SigningKey.retired_at.is_(None), SigningKey.publish_until > now))
        .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())
    )
    return {"keys": [dict(row.public_jwk) for row in rows]}


def list_signing_keys(session: Session) -> list[KeyInfo]:
    rows = session.scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.id))
    return [KeyInfo(r.kid, r.created_at, r.retired_at, r.publish_until) for r in rows]
