"""OIDC login and launch validation, built on pylti1p3's Flask adapter.

What pylti1p3 2.0.0 lacks and this module adds:
- the nonce is consumed atomically and must be the one issued with the state (pylti1p3 only
  checks that some nonce was saved, so the same POST is accepted again);
- state is single-use, expires in minutes and is bound to the browser (``browser_binding``);
- signature verification names the expected audience and issuer, allows a small clock skew,
  refuses tokens issued too long ago, checks ``azp`` for multi-audience tokens and accepts
  only the algorithm of the platform's key;
- the platform JWKS is cached in shared storage and refetched on an unknown ``kid``;
- the claims the tool reads are checked, and unknown deployments are recorded inactive and
  refused (both in ``lti/launch_checks.py``); a launch naming no deployment is refused before
  the platform's keys are fetched, one naming a held deployment, or from a registration that
  Dynamic Registration made and nobody let in, has them fetched from public addresses only;
  every failure is a plain-words ``LaunchRefused``, not a bare ``LtiException``.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import jwt
from flask import request as flask_request
from pylti1p3.contrib.flask.message_launch import FlaskMessageLaunch
from pylti1p3.contrib.flask.request import FlaskRequest
from pylti1p3.exception import LtiException

from lti_tool.errors import LaunchRefused
from lti_tool.lti import claims as c
from lti_tool.lti.browser_binding import STORAGE_SECRET_FIELD, take_bound_state
from lti_tool.lti.collaborators import LaunchParts
from lti_tool.lti.jwt_segments import id_token_jwt
from lti_tool.lti.launch_checks import (
    HeldDeployment,
    active_deployment_pk,
    check_message_claims,
    held_deployment,
    platform_key,
)
from lti_tool.lti.login import ToolCookieService
from lti_tool.lti.platform_keys import ASYMMETRIC_ALGORITHMS
from lti_tool.lti.registry_cache import RegistrationRow
from lti_tool.lti.tool_conf import ToolConf


@dataclass(frozen=True)
class ValidatedLaunch:
    """What a successful launch established."""

    claims: Mapping[str, Any]
    registration_pk: int
    registration_name: str
    issuer: str
    client_id: str
    deployment_pk: int
    deployment_id: str
    target_link_uri: str
    # How the state was bound to the browser: "cookie" or "platform_storage".
    binding: str


class ToolMessageLaunch(FlaskMessageLaunch):
    """The launch POST, validated strictly; see the module docstring for what is added."""

    def __init__(self, services: LaunchParts, request: FlaskRequest, tool_conf: ToolConf) -> None:
        cookies = ToolCookieService(request)
        super().__init__(request, tool_conf, cookie_service=cookies)
        # Every step runs from ``validate`` below; pylti1p3 must not start its own.
        self.set_auto_validation(enable=False)
        self._services = services
        self._conf = tool_conf
        self._http_request = request
        self._cookies = cookies
        # The decoded id_token, shared with pylti1p3's checks through ``set_jwt``.
        self._token: dict[str, Any] = {}
        self._passed = False
        self._state_record: dict[str, Any] = {}
        self._verified: dict[str, Any] = {}
        self._deployment: tuple[int, str] | None = None
        self._held: HeldDeployment | None = None
        self._binding = "cookie"

    # pylti1p3 takes aud[0] for a list; the spec says azp decides when present.
    def get_client_id(self) -> str:
        client_id = c.client_id_of(self._token.get("body", {}))
        if client_id is None:
            raise LaunchRefused(
                "bad_aud",
                "The launch names several audiences without saying (azp) which one it is for.",
            )
        return client_id

    def validate(self) -> ToolMessageLaunch:
        self._passed = False
        try:
            self._check_id_token_shape()
            self._take_state()
            self._validate_registration()
            # Unverified: refuses a launch naming no deployment; one held or switched off has
            # its keys fetched from public addresses only (the allow-list is for let-in LMSs).
            self._held = held_deployment(
                self._services, self._found_row(), self._token["body"].get(c.DEPLOYMENT_ID)
            )
            self._verify_signature()
            self._consume_nonce()
            self._check_message()
            self._check_deployment()
        except LtiException as exc:
            raise LaunchRefused("invalid_launch", f"The launch is not valid: {exc}") from exc
        self._passed = True
        return self

    def result(self) -> ValidatedLaunch:
        row = self._conf.found
        assert row is not None and self._deployment is not None and self._passed
        return ValidatedLaunch(
            claims=self._verified,
            registration_pk=row.pk,
            registration_name=row.name,
            issuer=row.issuer,
            client_id=row.client_id,
            deployment_pk=self._deployment[0],
            deployment_id=self._deployment[1],
            target_link_uri=str(self._state_record.get("target_link_uri") or ""),
            binding=self._binding,
        )

    def _set_body(self, body: dict[str, Any]) -> None:
        self._token = {**self._token, "body": body}
        self.set_jwt(cast(Any, self._token))

    def _param(self, name: str) -> str | None:
        value = self._http_request.get_param(name)
        return None if value is None else str(value)

    # -- steps ---------------------------------------------------------------------------

    def _check_id_token_shape(self) -> None:
        token = self._param("id_token")
        if not token:
            raise LaunchRefused("missing_id_token", "The launch carried no id_token.")
        limit = self._services.settings.id_token_max_bytes
        if len(token.encode()) > limit:
            raise LaunchRefused(
                "id_token_too_large", f"The id_token is larger than {limit // 1024} KB.", status=413
            )
        header, body = _unverified_parts(token)
        self._token = {"header": header}
        self._set_body(body)

    def _take_state(self) -> None:
        state = self._param("state")
        bound = take_bound_state(
            self._services,
            state,
            cookie=self._cookies.get_cookie(state) if state else None,
            from_storage=self._param(STORAGE_SECRET_FIELD),
            offered_target=self._param("lti_storage_target"),
            fetch_site=flask_request.headers.get("Sec-Fetch-Site"),
        )
        self._state_record, self._binding = bound.record, bound.binding

    def _validate_registration(self) -> None:
        body = self._token["body"]
        if not isinstance(body.get("iss"), str) or not body["iss"]:
            raise LaunchRefused("missing_iss", "The launch does not name its issuer (iss).")
        aud = body.get("aud")
        if isinstance(aud, list) and len(aud) > 1 and not body.get("azp"):
            raise LaunchRefused(
                "bad_aud",
                "The launch names several audiences without an azp claim naming this tool.",
            )
        self._conf.registration_pk = int(self._state_record["registration_pk"])
        try:
            self.validate_registration()
        except LtiException as exc:
            raise LaunchRefused(
                "wrong_iss_or_aud",
                "The launch was issued by or for a platform other than the one that started "
                "the sign-in (iss / aud / azp do not match the registration).",
            ) from exc

    def _verify_signature(self) -> None:
        settings = self._services.settings
        header = self._token["header"]
        alg = header.get("alg")
        kid = header.get("kid")
        if not isinstance(alg, str) or alg not in ASYMMETRIC_ALGORITHMS:
            raise LaunchRefused(
                "wrong_alg", f"The launch uses the signing algorithm {alg!r}, which is refused."
            )
        if not isinstance(kid, str) or not kid:
            raise LaunchRefused("missing_kid", "The launch's JWT header names no key (kid).")
        row = self._found_row()
        key = platform_key(self._services, row, self._held, kid, alg)
        try:
            verified: dict[str, Any] = id_token_jwt.decode(
                self._param("id_token") or "",
                key,
                algorithms=[alg],
                audience=row.client_id,
                issuer=row.issuer,
                leeway=settings.clock_skew_seconds,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise LaunchRefused("expired", "The launch has expired (exp is in the past).") from exc
        except jwt.ImmatureSignatureError as exc:
            raise LaunchRefused(
                "not_yet_valid", "The launch is not valid yet (nbf or iat is in the future)."
            ) from exc
        except jwt.InvalidAudienceError as exc:
            raise LaunchRefused("wrong_aud", "The launch is not addressed to this tool.") from exc
        except jwt.InvalidIssuerError as exc:
            raise LaunchRefused("wrong_iss", "The launch's issuer does not match.") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise LaunchRefused(
                "missing_claim", f"The launch lacks the required claim {exc.claim!r}."
            ) from exc
        except jwt.InvalidSignatureError as exc:
            raise LaunchRefused(
                "bad_signature", "The launch's signature does not match the platform's key."
            ) from exc
        except jwt.InvalidTokenError as exc:
            raise LaunchRefused("invalid_jwt", f"The launch's JWT is invalid: {exc}") from exc
        iat = verified.get("iat")
        if not isinstance(iat, int | float):
            raise LaunchRefused("missing_claim", "The launch's iat claim is not a number.")
        if time.time() - iat > settings.id_token_max_age_seconds + settings.clock_skew_seconds:
            raise LaunchRefused(
                "too_old",
                "The launch was issued too long ago. Please launch the tool again.",
            )
        azp = verified.get("azp")
        if azp is not None and azp != row.client_id:
            raise LaunchRefused("wrong_azp", "The launch's azp claim names another client.")
        self._verified = verified
        self._set_body(verified)

    def _found_row(self) -> RegistrationRow:
        row = self._conf.found
        assert row is not None
        return row

    def _consume_nonce(self) -> None:
        nonce = self._verified.get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise LaunchRefused("missing_nonce", "The launch carried no nonce.")
        if not secrets.compare_digest(nonce, str(self._state_record.get("nonce"))):
            raise LaunchRefused(
                "nonce_mismatch", "The launch's nonce is not the one issued for this sign-in."
            )
        if self._services.store.take("nonce", nonce) is None:
            raise LaunchRefused("nonce_replayed", "This launch was already used (replayed nonce).")

    def _check_message(self) -> None:
        body = self._verified
        check_message_claims(body)
        if body.get(c.MESSAGE_TYPE) == "LtiDataPrivacyLaunchRequest":
            # pylti1p3 knows only the name Canvas uses; validate the same way.
            self._set_body({**body, c.MESSAGE_TYPE: "DataPrivacyLaunchRequest"})
        try:
            self.validate_message()
        except (TypeError, AttributeError, ValueError) as exc:
            # pylti1p3's validators assume each claim has its specified shape; the checks
            # above cover the known ones, this any other (e.g. a list where it wants text).
            raise LaunchRefused(
                "invalid_launch", "The launch has a claim in a shape LTI does not allow."
            ) from exc
        finally:
            self._set_body(body)

    def _check_deployment(self) -> None:
        row = self._conf.found
        assert row is not None
        deployment_id = str(self._verified[c.DEPLOYMENT_ID])
        self._deployment = (active_deployment_pk(self._services, row, deployment_id), deployment_id)


def _unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The id_token's header and body, not yet verified (as pylti1p3 reads them)."""
    parts = token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("a JWT has three parts")
        header = json.loads(FlaskMessageLaunch.urlsafe_b64decode(parts[0]))
        body = json.loads(FlaskMessageLaunch.urlsafe_b64decode(parts[1]))
    except (ValueError, TypeError, RecursionError) as exc:
        raise LaunchRefused("not_a_jwt", "The id_token is not a readable JWT.") from exc
    if not isinstance(header, dict) or not isinstance(body, dict):
        raise LaunchRefused("not_a_jwt", "The id_token is not a readable JWT.")
    return header, body
