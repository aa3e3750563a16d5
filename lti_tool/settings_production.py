"""What production asks of the settings (a secret not to be guessed, the public HTTPS address
platforms are given), and the secret development keeps on disk. Standard library only; the
problems are sentences for ``settings.py`` to raise."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from lti_tool.settings import Settings

MIN_SECRET_LENGTH = 32  # characters of LTI_TOOL_SECRET_KEY in production
LOOPBACK = ("localhost", "127.0.0.1", "::1")  # a tool only this machine reaches (tests)
KEY_RECIPE = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
MISSING_SECRET = (
    "LTI_TOOL_SECRET_KEY is not set: production needs a long random secret (for example: "
    f"{KEY_RECIPE})"
)


def production_problem(settings: Settings, *, base_url_given: bool) -> str | None:
    """What production refuses in ``settings``, in one sentence, or None."""
    if len(settings.secret_key) < MIN_SECRET_LENGTH:
        return (
            f"LTI_TOOL_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters in production "
            f"(for example: {KEY_RECIPE})"
        )
    if not base_url_given:
        return (
            "LTI_TOOL_BASE_URL is not set: give the tool's public HTTPS address, where "
            "platforms reach it (for example https://pathway.example.ac.uk)"
        )
    parts = urlsplit(settings.base_url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
        return (
            f"LTI_TOOL_BASE_URL must be an https:// address in production, got "
            f"{settings.base_url!r}: platforms refuse a tool that is not on HTTPS"
        )
    return None


def development_secret(instance_dir: str) -> str:
    """The secret development generates once and keeps in ``instance_dir``."""
    folder = Path(instance_dir)
    folder.mkdir(parents=True, exist_ok=True)
    secret_file = folder / "secret_key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(48))
        secret_file.chmod(0o600)
    return secret_file.read_text().strip()
