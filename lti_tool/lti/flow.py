"""The two launch steps as services the web layer calls: login, then launch."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pylti1p3.contrib.flask.request import FlaskRequest
from sqlalchemy import text
from sqlalchemy.orm import Session

from lti_tool.container import Services
from lti_tool.errors import LaunchRefused
from lti_tool.lti import claims as c
from lti_tool.lti.launch import ToolMessageLaunch
from lti_tool.lti.launch_records import record_launch
from lti_tool.lti.login import StorageLogin, ToolOIDCLogin
from lti_tool.lti.sessions import BINDING_KEY, BOUND_AT_KEY, create_session, new_binding_id
from lti_tool.lti.tool_conf import ToolConf


@dataclass(frozen=True)
class LaunchOutcome:
    token: str
    session: dict[str, Any]

    @property
    def binding_id(self) -> str:
        return str(self.session[BINDING_KEY])


LaunchHook = Callable[[Session, dict[str, Any], Mapping[str, Any]], None]


def start_login(
    services: Services,
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


def complete_launch(services: Services, on_recorded: LaunchHook | None = None) -> LaunchOutcome:
    """Validate the id_token POST, record what it says, open a launch session.

    ``on_recorded(session, recorded, claims)`` runs in the same transaction as the records.
    """
    conf = ToolConf(services.db, services.registry_cache)
    launch = ToolMessageLaunch(services, FlaskRequest(), conf).validate()
    validated = launch.result()
    claims = validated.claims
    if (claim := c.claim_with_nul(claims)) is not None:
        raise LaunchRefused(
            "nul_in_claim", f"The platform sent a NUL character (\\0) in the {claim} claim."
        )
    roles = c.normalise_roles(claims.get(c.ROLES, []))
    with services.db.unit_of_work() as session:
        if session.get_bind().dialect.name == "postgresql":
            # These rows are re-derived by the next launch; not waiting for the WAL flush
            # halves the commit latency, and a crash can lose at most this launch's upsert.
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        recorded = record_launch(session, validated)
        if on_recorded is not None:
            on_recorded(session, recorded, claims)
    presentation = claims.get(c.LAUNCH_PRESENTATION)
    custom = claims.get(c.CUSTOM)
    data: dict[str, Any] = {
        **recorded,
        "sub": str(claims["sub"]),
        "roles": list(roles.raw),
        "role_names": sorted(roles.names),
        "is_staff": roles.is_staff,
        "is_admin": roles.is_admin,
        "limited": roles.limited,
        "message_type": claims.get(c.MESSAGE_TYPE),
        "registration": {
            "pk": validated.registration_pk,
            "name": validated.registration_name,
            "issuer": validated.issuer,
            "client_id": validated.client_id,
        },
        "deployment": {"pk": validated.deployment_pk, "id": validated.deployment_id},
        "locale": presentation.get("locale") if isinstance(presentation, dict) else None,
        "return_url": presentation.get("return_url") if isinstance(presentation, dict) else None,
        "custom": {str(k): str(v) for k, v in custom.items()} if isinstance(custom, dict) else {},
        "target_link_uri": validated.target_link_uri,
        "deep_linking_settings": claims.get(c.DEEP_LINKING_SETTINGS),
        "for_user": claims.get(c.FOR_USER),
        "launched_at": int(time.time()),
        # "platform_storage": the browser keeps no cookies for the tool in this frame, so
        # pages carry the launch token instead (see web/launch_token.py).
        "binding": validated.binding,
        # Which launch a page belongs to when one browser holds several (web/page_binding.py).
        BINDING_KEY: new_binding_id(),
        BOUND_AT_KEY: time.time_ns(),
    }
    token = create_session(services.store, data, services.settings.launch_session_ttl_seconds)
    return LaunchOutcome(token=token, session=data)
