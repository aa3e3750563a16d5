"""The tool's RSA signing keys: generated, rotated and published from the database.

The private key is sealed with the secret box (``crypto.py``, keyed from
``LTI_TOOL_SECRET_KEY``) before it is stored: a database dump or backup does not let anyone
sign launches' answers, deep-linking responses or service-token requests as the tool. The
public JWK is stored as is (it is published).

A routine rotation stages the new key: it is published at once and begins signing
``KEY_LEAD_TIME`` later, so that every platform (or proxy) that keeps the JWKS for its
``max-age`` has fetched the new key before it sees a signature by it; the previous key signs
until then and stays published for the grace period after. A rotation ``at_once`` (the key
may be compromised, the secret that opens it lost) signs with the new key immediately and
withdraws every earlier key from the JWKS (a stolen key must stop being accepted). A
rotation while a key is pending replaces it: the pending key has signed nothing, so it is
deleted, and the new key's lead time starts again.

Which key signs is read from the table with the time of each call (``utcnow``), so every
process switches at the activation time without a restart.
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
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from lti_tool.crypto import SecretBox, SecretUnreadable
from lti_tool.errors import ToolError
from lti_tool.persistence.models import SigningKey, utcnow

KEY_SIZE = 2048
ALGORITHM = "RS256"
# How long /.well-known/jwks.json may be kept by a platform or a proxy (Cache-Control).
JWKS_MAX_AGE_SECONDS = 300
# A staged key is published this long before it signs: twice the max-age, so that a copy
# fetched just before the rotation has expired, with room for a late refresh.
KEY_LEAD_TIME = dt.timedelta(seconds=2 * JWKS_MAX_AGE_SECONDS)


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    created_at: dt.datetime
    # When it begins signing; in the future for a pending key.
    activates_at: dt.datetime
    # When it stops signing (in the future while a pending key waits to replace it).
    retired_at: dt.datetime | None
    publish_until: dt.datetime | None
    # When an emergency rotation took it out of the JWKS (``list_signing_keys``).
    withdrawn_at: dt.datetime | None = None

    @property
    def is_pending(self) -> bool:
        return self.activates_at > utcnow()

    @property
    def is_signing(self) -> bool:
        return not self.is_pending and (self.retired_at is None or self.retired_at > utcnow())

    @property
    def is_published(self) -> bool:
        """In the JWKS now (the pending key too)."""
        return self.retired_at is None or bool(self.publish_until and self.publish_until > utcnow())

    @property
    def is_withdrawn(self) -> bool:
        """Taken out of the JWKS by an emergency rotation (signing then, or in its grace)."""
        return self.withdrawn_at is not None

    @property
    def status(self) -> str:
        if self.is_pending:
            return "pending"
        if self.is_signing:
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
    """A fresh (or the given) RSA key as an unsaved row, its private half sealed; it signs
    from now unless its ``activates_at`` is moved."""
    material = material or generate_key_material()
    now = utcnow()
    return SigningKey(
        kid=material.kid,
        private_key_sealed=box.seal(material.private_pem),
        public_jwk=material.public_jwk,
        created_at=now,
        activates_at=now,
    )


def private_pem(key: SigningKey, box: SecretBox) -> str:
    """The key's PKCS#8 PEM, unsealed for signing; never stored or logged."""
    try:
        return box.open(key.private_key_sealed)
    except SecretUnreadable:
        raise SigningKeyUnreadable(
            "signing_key_unreadable",
            "The tool's signing key cannot be decrypted: LTI_TOOL_SECRET_KEY is not the one it "
            "was saved with. Restore that secret, or make a new key with `lti-tool keys rotate "
            "--now` (platforms then fetch the new public key from the tool's JWKS).",
        ) from None


@dataclass(frozen=True)
class ReadableKeys:
    """The keys that sign now and next, each known to unseal with the tool's secret."""

    signing: str | None
    pending: KeyInfo | None = None


def readable_signing_keys(session: Session, box: SecretBox) -> ReadableKeys | None:
    """The active key's kid and the pending key's, once each private half is known to unseal
    with ``box``; None when there is no key yet. ``SigningKeyUnreadable`` when
    LTI_TOOL_SECRET_KEY is not the one a key was sealed under (a restore onto another server,
    a typo in the environment, a rotation run with other settings): a pending key is checked
    too, so that it is caught before it begins signing."""
    key, pending = active_signing_key(session), pending_signing_key(session)
    if key is None and pending is None:
        return None
    if key is not None:
        private_pem(key, box)
    if pending is None:
        return ReadableKeys(key.kid if key else None)
    try:
        private_pem(pending, box)
    except SigningKeyUnreadable:
        raise SigningKeyUnreadable(
            "signing_key_unreadable",
            f"The tool's next signing key {pending.kid}, which begins signing at "
            f"{pending.activates_at:%Y-%m-%d %H:%M:%S}Z, cannot be decrypted: "
            "LTI_TOOL_SECRET_KEY is not the one it was saved with. Run `lti-tool keys rotate` "
            "again with the tool's own settings: the new key replaces the pending one.",
        ) from None
    return ReadableKeys(key.kid if key else None, _info(pending))


def ensure_signing_key(session: Session, box: SecretBox) -> SigningKey:
    """The active key (or the pending one), created when there is none (``lti-tool init``,
    first start)."""
    key = active_signing_key(session) or pending_signing_key(session)
    if key is None:
        key = new_signing_key(box)
        session.add(key)
        session.flush()
    return key


def _signs_at(now: dt.datetime) -> ColumnElement[bool]:
    return and_(
        SigningKey.activates_at <= now,
        or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > now),
    )


def _published_at(now: dt.datetime) -> ColumnElement[bool]:
    return or_(SigningKey.retired_at.is_(None), SigningKey.publish_until > now)


def active_signing_key(session: Session) -> SigningKey | None:
    """The key that signs now: begun signing and not yet retired (the latest to begin)."""
    return session.scalar(
        select(SigningKey)
        .where(_signs_at(utcnow()))
        .order_by(SigningKey.activates_at.desc(), SigningKey.id.desc())
        .limit(1)
    )


def pending_signing_key(session: Session) -> SigningKey | None:
    """The key published but not yet signing, if a rotation staged one."""
    return session.scalar(
        select(SigningKey)
        .where(SigningKey.activates_at > utcnow())
        .order_by(SigningKey.activates_at.desc(), SigningKey.id.desc())
        .limit(1)
    )


def rotate_signing_key(
    session: Session, grace_period: dt.timedelta, box: SecretBox, *, at_once: bool = False
) -> SigningKey:
    """Add a new key, published now. It begins signing after ``KEY_LEAD_TIME`` (``at_once``:
    now, or when no key signs); the key signing until then retires at that moment and stays
    published for ``grace_period`` after. A key still pending is deleted (it never signed).
    ``at_once`` is for a key that may be stolen: every earlier key is withdrawn from the JWKS
    now, or whoever holds it could sign service-token requests as the tool through the
    grace period. Old keys are not unsealed: rotating at once also recovers from a lost
    secret."""
    now = utcnow()
    for pending in session.scalars(select(SigningKey).where(SigningKey.activates_at > now)):
        session.delete(pending)
    session.flush()
    if at_once:
        for old in session.scalars(select(SigningKey).where(_published_at(now))):
            if old.retired_at is None or old.retired_at > now:
                old.retired_at = now
            old.publish_until = now
    signing = list(session.scalars(select(SigningKey).where(_signs_at(now))))
    starts = now if at_once or not signing else now + KEY_LEAD_TIME
    for old in signing:
        old.retired_at = starts
        old.publish_until = starts + grace_period
    key = new_signing_key(box)
    key.created_at, key.activates_at = now, starts
    session.add(key)
    session.flush()
    return key


def published_jwks(session: Session) -> dict[str, list[dict[str, Any]]]:
    """The JWKS document: the pending key, the active key and retired keys still in their
    grace period."""
    now = utcnow()
    rows = session.scalars(
        select(SigningKey)
        .where(_published_at(now))
        .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())
    )
    return {"keys": [dict(row.public_jwk) for row in rows]}


def list_signing_keys(session: Session) -> list[KeyInfo]:
    """Every key, oldest first. A key is withdrawn when its publication ended as a later key
    was made: only a rotation ``at_once`` does that (it makes a key signing from the moment it
    ends every published key's publication); a routine one ends it a grace period of at least
    a day after its new key begins signing."""
    rows = list(session.scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.id)))
    at_once = {r.created_at for r in rows if r.activates_at == r.created_at}
    return [
        _info(r, r.publish_until if r.publish_until in at_once - {r.created_at} else None)
        for r in rows
    ]


def _info(row: SigningKey, withdrawn_at: dt.datetime | None = None) -> KeyInfo:
    return KeyInfo(
        row.kid, row.created_at, row.activates_at, row.retired_at, row.publish_until, withdrawn_at
    )
