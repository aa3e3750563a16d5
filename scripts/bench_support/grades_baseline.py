"""The yardsticks of ``scripts/bench_grades.py``.

The baseline: pylti1p3's default pattern, one result at a time. For each result a fresh
pylti1p3 ``ServiceConnector`` (its own ``requests.Session``, as ``MessageLaunch.get_ags()``
builds one per launch) fetches an access token with a new client assertion, and
``AssignmentsGradesService.put_grade`` posts the score to the line item.

The floor: the same score POSTs with nothing else, from as many threads as the sync uses, one
shared ``requests`` session and a token handed out by the platform, no database. What this
machine and the sandbox platform allow at best: the sync cannot be faster."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector

from bench_support.grades_setup import AGS_SCOPES, Site
from lti_tool.container import outbound_session
from lti_tool.grading.line_items import scores_url


@dataclass(frozen=True)
class BaselineRun:
    sent: int
    seconds: float
    token_requests: int  # at the platform's /token
    accepted: int  # score POSTs the fake answered 200, in the baseline's column

    @property
    def per_result(self) -> float:
        return self.seconds / self.sent if self.sent else 0.0


def pylti_registration(found: Site) -> Registration:
    """The tool's registration as pylti1p3 holds it: the same RSA key. pylti1p3 names the key
    by its full RFC 7638 thumbprint; the tool publishes it cut to 32 characters, so the key is
    offered to the platform under pylti1p3's kid as well (``Site.extra_jwks``)."""
    private = serialization.load_pem_private_key(found.private_pem.encode(), None)
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    platform = found.platform
    registration = (
        Registration()
        .set_issuer(platform.issuer)
        .set_client_id(platform.client_id)
        .set_auth_login_url(platform.auth_url)
        .set_auth_token_url(platform.token_url)
        .set_key_set_url(platform.jwks_url)
        .set_tool_private_key(found.private_pem)
        .set_tool_public_key(public_pem)
    )
    jwk = dict(Registration.get_jwk(public_pem))
    if all(k.get("kid") != jwk.get("kid") for k in found.extra_jwks):
        found.extra_jwks.append(jwk)
        found.publish_tool_jwks()
    return registration


def grade_of(payload: dict[str, Any]) -> Grade:
    grade = (
        Grade()
        .set_user_id(str(payload["userId"]))
        .set_score_given(payload["scoreGiven"])
        .set_score_maximum(payload["scoreMaximum"])
        .set_activity_progress(payload["activityProgress"])
        .set_grading_progress(payload["gradingProgress"])
        .set_timestamp(payload["timestamp"])
    )
    if payload.get("comment"):
        grade.set_comment(payload["comment"])
    return grade


def sequential_loop(found: Site, payloads: Sequence[dict[str, Any]]) -> BaselineRun:
    """Send ``payloads`` one after another, a fresh connector and token for each, to a column
    of its own (so the tool's column and its timestamps are left alone)."""
    registration = pylti_registration(found)
    sandbox = found.sandbox
    column = sandbox.call(
        "add_lineitem",
        "Baseline (pylti1p3 sequential)",
        100,
        {"resource_id": "BASELINE", "tag": "BASELINE"},
    )
    service_data: Any = {
        "scope": list(AGS_SCOPES),
        "lineitems": sandbox.call("lineitems_url"),
        "lineitem": sandbox.call("lineitem_url", column),
    }
    tokens_before = sandbox.call("token_requests")
    started = time.perf_counter()
    for payload in payloads:
        connector = ServiceConnector(registration)
        try:
            AssignmentsGradesService(connector, service_data).put_grade(grade_of(payload))
        finally:
            connector._requests_session.close()
    seconds = time.perf_counter() - started
    return BaselineRun(
        sent=len(payloads),
        seconds=seconds,
        token_requests=sandbox.call("token_requests") - tokens_before,
        accepted=sandbox.call("score_stats", column).accepted,
    )


@dataclass(frozen=True)
class FloorRun:
    sent: int
    workers: int
    seconds: float
    cpu_seconds: float
    accepted: int


def http_floor(found: Site, payloads: Sequence[dict[str, Any]], workers: int) -> FloorRun:
    """The score POSTs alone, ``workers`` at a time, to a column of their own."""
    sandbox = found.sandbox
    column = sandbox.call(
        "add_lineitem", "Floor (bare POSTs)", 100, {"resource_id": "FLOOR", "tag": "FLOOR"}
    )
    url = scores_url(sandbox.call("lineitem_url", column))
    token = sandbox.call("issue_token", list(AGS_SCOPES))
    headers = {
        "Authorization": "Bearer " + token,
        "Accept": "application/json",
        "Content-Type": "application/vnd.ims.lis.v1.score+json",
    }
    http = outbound_session(found.services.settings)

    def post(payload: dict[str, Any]) -> None:
        http.post(url, data=json.dumps(payload), headers=headers)

    started, cpu = time.perf_counter(), time.process_time()
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(post, payloads))
    finally:
        http.close()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    accepted = sandbox.call("score_stats", column).accepted
    return FloorRun(len(payloads), workers, seconds, cpu, accepted)
