"""Load-balancer probes: /healthz (process alive) and /readyz (dependencies reachable)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from lti_tool.web.auth import services

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    svc = services()
    checks: dict[str, str] = {}
    try:
        with svc.db.read_only() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # the probe reports, it does not raise
        checks["database"] = f"error: {type(exc).__name__}"
    if svc.settings.redis_url:
        try:
            svc.store.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    response = jsonify({"status": "ready" if ready else "not ready", "checks": checks})
    response.status_code = 200 if ready else 503
    return response
