"""Settings: ``config/settings.toml`` defaults, overridden by ``LTI_TOOL_*`` environment variables.

Standard library only; nothing here touches the database or the network.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import os
import tomllib
import unicodedata
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lti_tool.resources import resource_dir
from lti_tool.settings_production import (
    MISSING_SECRET,
    development_secret,
    production_problem,
)

ENV_PREFIX = "LTI_TOOL_"
DYNAMIC_REGISTRATION_MODES = ("", "open", "approve", "off")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
LONGEST_TOOL_NAME = 100  # Canvas holds a developer key's name to 255, its menu text shorter
# The tool's name before it was a setting: what every LMS that registered it then keeps.
SHIPPED_TOOL_NAME = "Clinical leadership pathway"


class SettingsError(ValueError):
    """A setting is missing or malformed."""


@dataclasses.dataclass(frozen=True)
class Settings:
    env: str = "production"
    base_url: str = "http://127.0.0.1:5000"
    database_url: str = "sqlite:///var/lti_tool.sqlite3"
    redis_url: str = ""
    redis_prefix: str = "lti_tool"
    # Deadlines on the tool's own dependencies (a request that needs one that is down or not
    # answering gets a 503 page within them, not a hang): PostgreSQL connect, one statement
    # (0 = none; migrations have none) and the wait for a free pooled connection; Redis
    # connect and each command's answer. SQLite has none of them.
    database_connect_timeout_seconds: int = 5
    database_statement_timeout_seconds: float = 10.0
    database_pool_timeout_seconds: float = 5.0
    redis_connect_timeout_seconds: float = 3.0
    redis_timeout_seconds: float = 5.0
    secret_key: str = ""
    trusted_proxies: str = ""
    instance_dir: str = "var"
    clock_skew_seconds: int = 60
    id_token_max_age_seconds: int = 300
    id_token_max_bytes: int = 65536
    state_ttl_seconds: int = 300
    launch_session_ttl_seconds: int = 28800
    platform_jwks_cache_seconds: int = 3600
    platform_jwks_refetch_min_seconds: int = 10
    http_timeout_seconds: float = 5.0
    http_retries: int = 3
    # Outbound-URL policy (lti_tool/outbound/policy.py): hosts or networks an operator allows
    # even on a private network; loopback allowed (development only: the sandbox, test fakes).
    outbound_allowed_hosts: str = ""
    outbound_allow_loopback: bool = False
    # Requests per minute from one address to /lti/register and /lti/login.
    rate_limit_register_per_minute: int = 60
    rate_limit_login_per_minute: int = 300
    key_grace_period_days: int = 7
    # The tool's name where people see it: the LMS's tool list and links, its page titles.
    tool_name: str = SHIPPED_TOOL_NAME
    default_qualification: str = "PGCERT-CL"
    qualifications_dir: str = ""
    timezone: str = "Europe/London"
    completion_max_age_seconds: int = 900
    completion_first_fetch_wait_seconds: float = 5.0
    sync_stale_seconds: int = 120
    sandbox_enabled: bool = False
    sandbox_url: str = "http://127.0.0.1:5001"
    log_level: str = "INFO"
    frame_ancestors: str = ""
    # LTI Dynamic Registration: "open", "approve", "off", or "" (open in development,
    # approve in production).
    dynamic_registration: str = ""
    # Retention: data of courses inactive this many days goes at `lti-tool purge`; 0 = off.
    retention_days: int = 0
    # Expired store rows (OIDC state, nonces, launch sessions) are deleted this often; 0 = off.
    store_purge_seconds: int = 900

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def sqlalchemy_url(self) -> str:
        return normalise_database_url(self.database_url)

    @property
    def completion_max_age(self) -> dt.timedelta:
        """How old a completion copy may be before a launch refreshes it (or a page: stale)."""
        return dt.timedelta(seconds=self.completion_max_age_seconds)

    @property
    def qualifications_path(self) -> Path:
        if self.qualifications_dir:
            return Path(self.qualifications_dir)
        return resource_dir("config") / "qualifications"

    @property
    def dynamic_registration_mode(self) -> str:
        """The Dynamic Registration mode: "open" (deployments active at once), "approve"
        (inactive until an admin activates them) or "off"; empty follows the environment."""
        if self.dynamic_registration:
            return self.dynamic_registration
        return "open" if self.is_development else "approve"

    def today(self) -> dt.date:
        """Today's date in the configured time zone (deadlines are dates, not instants)."""
        return dt.datetime.now(zoneinfo.ZoneInfo(self.timezone)).date()

    def url_for_tool(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


def normalise_database_url(url: str) -> str:
    """Map the usual URL forms onto the installed drivers (psycopg 3 for PostgreSQL)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def trusted_proxies(setting: str) -> int | list[IPNetwork]:
    """``LTI_TOOL_TRUSTED_PROXIES`` read: a number of hops, or the proxies' addresses and
    networks (empty: none is trusted). A host name cannot be matched against the address a
    request comes from, so it is refused."""
    setting = setting.strip()
    if setting.isdigit():
        return int(setting)
    networks = []
    for item in (part.strip() for part in setting.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise SettingsError(
                f"LTI_TOOL_TRUSTED_PROXIES names {item!r}, which is not an IP address or "
                "network: give the proxy's address as the tool sees it (10.0.0.5, "
                "10.0.1.0/24, several with commas), not its host name"
            ) from exc
    return networks


def _coerce(field: dataclasses.Field[Any], raw: Any, source: str) -> Any:
    kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
    try:
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{source}: {field.name} must be a {kind}, got {raw!r}") from exc


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    *,
    require_secret: bool = True,
) -> Settings:
    """Build the settings: TOML defaults, then environment variables, then explicit overrides.
    ``require_secret=False`` is for commands that seal and sign nothing (tool-admin accounts):
    in production they then run without LTI_TOOL_SECRET_KEY, with an empty ``secret_key``."""
    environ = os.environ if environ is None else environ
    if config_file is None and environ.get(ENV_PREFIX + "CONFIG"):
        config_file = Path(environ[ENV_PREFIX + "CONFIG"])
    path = config_file or resource_dir("config") / "settings.toml"
    with path.open("rb") as handle:
        from_file = tomllib.load(handle)

    fields = {f.name: f for f in dataclasses.fields(Settings)}
    values: dict[str, Any] = {}
    for key, raw in from_file.items():
        if key not in fields:
            raise SettingsError(f"{path}: unknown setting {key!r}")
        values[key] = _coerce(fields[key], raw, str(path))
    for name, field in fields.items():
        env_key = ENV_PREFIX + name.upper()
        if env_key in environ:
            values[name] = _coerce(field, environ[env_key], env_key)
    for key, raw in (overrides or {}).items():
        if key not in fields:
            raise SettingsError(f"override: unknown setting {key!r}")
        values[key] = _coerce(fields[key], raw, "override")

    settings = Settings(**values)
    try:
        zoneinfo.ZoneInfo(settings.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"timezone {settings.timezone!r} is not a known time zone") from exc
    if settings.env not in {"development", "production"}:
        raise SettingsError(f"env must be 'development' or 'production', got {settings.env!r}")
    mode = settings.dynamic_registration.strip().lower()
    settings = dataclasses.replace(settings, dynamic_registration=mode)
    if mode not in DYNAMIC_REGISTRATION_MODES:
        raise SettingsError(
            "dynamic_registration must be 'open', 'approve', 'off' or empty (by env), "
            f"got {settings.dynamic_registration!r}"
        )
    name = " ".join(settings.tool_name.split())
    if not name or len(name) > LONGEST_TOOL_NAME:
        raise SettingsError(
            f"tool_name must be 1 to {LONGEST_TOOL_NAME} characters, got {len(name)}"
        )
    # Control and format characters (NUL, right-to-left overrides) would make the name LMS
    # pages show read other than it is written.
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in name):
        raise SettingsError("tool_name must hold no control or direction characters")
    settings = dataclasses.replace(settings, tool_name=name)
    if settings.retention_days < 0:
        raise SettingsError(
            f"retention_days must be 0 (off) or more, got {settings.retention_days}"
        )
    if settings.store_purge_seconds < 0:
        raise SettingsError(
            f"store_purge_seconds must be 0 (off) or more, got {settings.store_purge_seconds}"
        )
    if settings.outbound_allow_loopback and not settings.is_development:
        raise SettingsError(
            "outbound_allow_loopback is for development only; in production list the hosts "
            "you trust in outbound_allowed_hosts"
        )
    for name in (
        "database_connect_timeout_seconds",
        "database_pool_timeout_seconds",
        "redis_connect_timeout_seconds",
        "redis_timeout_seconds",
    ):
        if not getattr(settings, name) > 0:
            raise SettingsError(f"{name} must be more than 0, got {getattr(settings, name)}")
    if settings.database_statement_timeout_seconds < 0:
        raise SettingsError(
            "database_statement_timeout_seconds must be 0 (none) or more, "
            f"got {settings.database_statement_timeout_seconds}"
        )
    trusted_proxies(settings.trusted_proxies)
    if settings.redis_url and not settings.redis_url.startswith(REDIS_SCHEMES):
        raise SettingsError(
            "LTI_TOOL_REDIS_URL must be a URL starting with redis://, rediss:// or unix:// "
            "(for example redis://127.0.0.1:6379/0)"
        )
    # A grace period under a day took a retired key out of the JWKS as it stopped signing
    # (read as an emergency's withdrawal) or before (its last signatures refused).
    for name in (
        "rate_limit_register_per_minute",
        "rate_limit_login_per_minute",
        "key_grace_period_days",
    ):
        if getattr(settings, name) < 1:
            raise SettingsError(f"{name} must be 1 or more, got {getattr(settings, name)}")
    if not settings.secret_key and (require_secret or settings.is_development):
        if not settings.is_development:
            raise SettingsError(MISSING_SECRET)
        secret = development_secret(settings.instance_dir)
        settings = dataclasses.replace(settings, secret_key=secret)
    if require_secret and not settings.is_development:  # the shipped base_url: not given
        shipped = settings.base_url.rstrip("/") == fields["base_url"].default
        if problem := production_problem(settings, base_url_given=not shipped):
            raise SettingsError(problem)
    return settings
