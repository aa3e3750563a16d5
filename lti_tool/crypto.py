"""Secrets at rest (LMS API tokens): Fernet, keyed from ``LTI_TOOL_SECRET_KEY`` through HKDF."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretUnreadable(ValueError):
    """A stored secret was encrypted under another LTI_TOOL_SECRET_KEY."""


class SecretBox:
    def __init__(self, secret_key: str) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"lti-tool", info=b"secrets at rest"
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise SecretUnreadable(
                "a stored secret cannot be decrypted: LTI_TOOL_SECRET_KEY changed since it was "
                "saved; set the LMS token again (lti-tool platform set-completion)"
            ) from exc
