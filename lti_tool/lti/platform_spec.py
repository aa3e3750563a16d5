"""What a platform registration must be before it is written: the one set of rules for
``lti-tool platform add``, the admin page's form and Dynamic Registration's answer (https
outside development, non-empty names, column sizes)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from lti_tool.errors import ToolError
from lti_tool.lti.deployment_policy import HOLD
from lti_tool.urls import split_web_url

PLATFORM_KINDS = ("moodle", "canvas", "generic")


class RegistryError(ToolError):
    """A registration command could not be carried out."""


@dataclass(frozen=True)
class PlatformSpec:
    name: str
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    auth_audience: str | None = None
    kind: str = "generic"
    deployment_ids: Sequence[str] = ()
    new_deployments: str = HOLD


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_platform_url(url: str, *, development: bool, field: str) -> str:
    """https everywhere; plain http only for loopback hosts in development. The host must be
    a host and the port a port (``urls.split_web_url``)."""
    parts = split_web_url(url)
    if parts is None:
        raise RegistryError("bad_url", f"{field}: {url!r} is not an absolute http(s) URL")
    if parts.scheme == "https":
        return url.strip()
    if parts.scheme == "http":
        if development and is_loopback_host(parts.hostname):
            return url.strip()
        reason = (
            "plain http is accepted only for loopback hosts in development"
            if development
            else "production accepts only https platform URLs"
        )
        raise RegistryError("insecure_url", f"{field}: {url!r} refused ({reason})")
    raise RegistryError("bad_url", f"{field}: {url!r} is not an absolute http(s) URL")


# Column sizes of a registration (``persistence/models/lti.py``): longer values are refused
# in words before the database would refuse them.
MAX_LENGTHS = {
    "name": 100,
    "issuer": 255,
    "client_id": 255,
    "auth_login_url": 1024,
    "auth_token_url": 1024,
    "key_set_url": 1024,
    "auth_audience": 1024,
    "deployment_ids": 255,
}
SPEC_LABELS = {
    "name": "name",
    "issuer": "issuer",
    "client_id": "client_id",
    "auth_login_url": "auth login URL",
    "auth_token_url": "auth token URL",
    "key_set_url": "key set URL",
    "auth_audience": "auth audience",
    "deployment_ids": "deployment id",
}


def platform_spec_problems(spec: PlatformSpec, *, development: bool) -> dict[str, RegistryError]:
    """Every reason ``spec`` cannot be registered, by field (empty when it can): the one set of
    rules for ``lti-tool platform add`` and the admin page's form. Duplicates are found when
    the row is written (``add_platform``)."""
    problems: dict[str, RegistryError] = {}
    if spec.kind not in PLATFORM_KINDS:
        problems["kind"] = RegistryError(
            "bad_kind", f"kind must be one of {', '.join(PLATFORM_KINDS)}"
        )
    if not spec.name.strip():
        problems["name"] = RegistryError("bad_name", "a registration needs a name")
    if not spec.client_id.strip():
        problems["client_id"] = RegistryError("bad_client_id", "client_id must not be empty")
    if not spec.issuer.strip():
        problems["issuer"] = RegistryError("bad_issuer", "issuer must not be empty")
    for field in ("issuer", "auth_login_url", "auth_token_url", "key_set_url"):
        url = getattr(spec, field)
        if field in problems:
            continue
        try:
            check_platform_url(url, development=development, field=SPEC_LABELS[field])
        except RegistryError as exc:
            problems[field] = exc
        else:
            parts = urlsplit(url.strip())
            if field == "issuer" and (parts.query or parts.fragment):
                problems[field] = RegistryError("bad_issuer", "the issuer has a query or fragment")
    values = {n: [str(getattr(spec, n) or "")] for n in MAX_LENGTHS if n != "deployment_ids"}
    values["deployment_ids"] = [str(d) for d in spec.deployment_ids]
    for field, texts in values.items():
        if field not in problems and any(len(t.strip()) > MAX_LENGTHS[field] for t in texts):
            problems[field] = RegistryError(
                "too_long", f"{SPEC_LABELS[field]} is longer than {MAX_LENGTHS[field]} characters"
            )
    return problems
