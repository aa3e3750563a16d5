"""The two launch steps as services the web layer calls: login, then launch.

The launch comes in three steps that ``pathway.launch.open_launch`` runs: ``validate_launch``
(nothing written), ``record`` (in the caller's transaction, beside whatever the caller
records with it), ``open_session`` (once that transaction is committed)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pylti1p3.contrib.flask.request import FlaskRequest
from sqlalchemy import text
from sqlalchemy.orm import Session

from lti_tool.errors import LaunchRefused
from lti_tool.lti import claims as c
from lti_tool.lti.collaborators import LaunchParts, LoginParts
from lti_tool.lti.launch import ToolMessageLaunch, ValidatedLaunch
from lti_tool.lti.launch_context import (
    Launch,
    LaunchCourse,
    LaunchRegistration,
    LaunchRoles,
    LaunchServices,
    LaunchUser,
)
from lti_tool.lti.launch_records import record_launch
from lti_tool.lti.login import StorageLogin, ToolOIDCLogin
from lti_tool.lti.sessions import create_session, new_binding_id
from lti_tool.lti.tool_conf import ToolConf


@dataclass(frozen=True)
class LaunchOutcome:
    token: str
    launch: Launch

    @property
    def binding_id(self) -> str:
        return self.launch.binding_id


def start_login(
    services: LoginParts,
    registration_pk: int | None,
    storage_page: Callable[[StorageLogin], Any],
) -> Any:
    """Answer an OIDC third-party initiated login with the redirect to the platform, or, when
    the platform offers storage, with ``storage_page(...)``: a page that first keeps the
    browser secret there (``lti.put_data``) and then goes on to the platform."""
    conf = ToolConf(services.db, services.registry_cache, registration_pk)
    login = ToolOIDCLogin(services, FlaskRequest(), conf)
    answer = login.respond(services.settings.url_for_tool("/lti/launch"))
    if isinstance(answer, StorageLogin):
        return login.finish(storage_page(answer))
    return answer


def validate_launch(services: LaunchParts) -> ValidatedLaunch:
    """Validate the id_token POST (``ToolMessageLaunch``); nothing is recorded yet."""
    conf = ToolConf(services.db, services.registry_cache)
    validated = ToolMessageLaunch(services, FlaskRequest(), conf).validate().result()
    if (claim := c.claim_with_nul(validated.claims)) is not None:
        raise LaunchRefused(
            "nul_in_claim", f"The platform sent a NUL character (\\0) in the {claim} claim."
        )
    return validated


def record(session: Session, validated: ValidatedLaunch) -> Launch:
    """Record what the launch says (user, context, resource link, membership) in the
    caller's transaction, and return the launch a session will grant."""

    def relaxed_commit() -> None:
        if session.get_bind().dialect.name == "postgresql":
            # These rows are re-derived by the next launch; not waiting for the WAL flush
            # halves the commit latency, and a crash can lose at most this launch's upsert.
            # Only when the launch writes: a returning person's usually writes nothing.
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))

    return launch_of(validated, record_launch(session, validated, relaxed_commit))


def open_session(services: LaunchParts, launch: Launch) -> LaunchOutcome:
    """Open the launch session (after the records are committed)."""
    token = create_session(services.store, launch, services.settings.launch_session_ttl_seconds)
    return LaunchOutcome(token=token, launch=launch)


def launch_of(validated: ValidatedLaunch, recorded: Mapping[str, Any]) -> Launch:
    """The typed launch: the recorded keys and what the claims say."""
    claims = validated.claims
    roles = c.normalise_roles(claims.get(c.ROLES, []))
    presentation = claims.get(c.LAUNCH_PRESENTATION)
    custom = claims.get(c.CUSTOM)
    context = recorded["context"]
    settings = claims.get(c.DEEP_LINKING_SETTINGS)
    for_user = claims.get(c.FOR_USER)
    return Launch(
        user=LaunchUser(
            pk=int(recorded["user_pk"]),
            sub=str(claims["sub"]),
            name=recorded["name"],
            email=recorded["email"],
        ),
        roles=LaunchRoles(
            raw=tuple(roles.raw),
            names=tuple(sorted(roles.names)),
            is_staff=roles.is_staff,
            is_admin=roles.is_admin,
            limited=roles.limited,
        ),
        context=LaunchCourse(**context) if context else None,
        resource_link_pk=recorded["resource_link_pk"],
        registration=LaunchRegistration(
            pk=validated.registration_pk,
            name=validated.registration_name,
            issuer=validated.issuer,
            client_id=validated.client_id,
            deployment_pk=validated.deployment_pk,
            deployment_id=validated.deployment_id,
        ),
        message_type=_text(claims.get(c.MESSAGE_TYPE)),
        binding_id=new_binding_id(),
        bound_at=time.time_ns(),
        launched_at=int(time.time()),
        binding=validated.binding,
        services=_services(claims),
        custom={str(k): str(v) for k, v in custom.items()} if isinstance(custom, dict) else {},
        locale=_text(presentation.get("locale")) if isinstance(presentation, dict) else None,
        return_url=(
            _text(presentation.get("return_url")) if isinstance(presentation, dict) else None
        ),
        target_link_uri=validated.target_link_uri,
        deep_linking_settings=settings if isinstance(settings, dict) else None,
        for_user=for_user if isinstance(for_user, dict) else None,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _services(claims: Mapping[str, Any]) -> LaunchServices:
    nrps, ags = claims.get(c.NRPS), claims.get(c.AGS)
    nrps = nrps if isinstance(nrps, dict) else {}
    ags = ags if isinstance(ags, dict) else {}
    scopes = ags.get("scope")
    return LaunchServices(
        nrps_url=_text(nrps.get("context_memberships_url")),
        ags_lineitems=_text(ags.get("lineitems")),
        ags_lineitem=_text(ags.get("lineitem")),
        ags_scopes=tuple(str(s) for s in scopes) if isinstance(scopes, list) else (),
    )
