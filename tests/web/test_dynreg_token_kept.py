"""Canvas's registration token rides in the openid_configuration URL's query. It is a credential:
the audit log (dynreg.created, dynreg.refused), the log and the pending install keep the URL
without its query (an outside review found the token whole in all three)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lti_tool.container import Services
from lti_tool.lti.dynreg.flow import PENDING_KIND
from lti_tool.persistence.models import AuditEntry
from tests.support.dynreg import Lms
from tests.support.lti import form_fields
from tests.support.tooling import captured_logs


def test_the_canvas_registration_token_is_kept_nowhere_in_clear(
    sqlite_tool_factory: Any, lms: Lms
) -> None:
    app = sqlite_tool_factory().app
    services: Services = app.extensions["lti_tool"]
    client = app.test_client()
    with captured_logs() as logs:
        start = lms.canvas_start()
        token = start.rsplit("registration_token=", 1)[1]
        page = client.get(start)
        assert page.status_code == 200
        kept: list[str] = []
        services.store.delete_matching(PENDING_KIND, lambda r: kept.append(repr(r)) or False)
        assert kept and not any(token in record for record in kept)
        assert client.post("/lti/register", data=form_fields(page.get_data(as_text=True)))
        lms.canvas.next_key = 1  # the platform hands out the same client_id again: refused
        again = client.get(lms.canvas_start())
        refused = client.post(
            "/lti/register",
            data={**form_fields(again.get_data(as_text=True)), "confirm_existing": "yes"},
        )
        assert refused.status_code == 409
    with services.db.read_only() as session:
        entries = {e.action: e for e in session.scalars(select(AuditEntry))}
    for action in ("dynreg.created", "dynreg.refused"):
        url = str(entries[action].new["configuration_url"])
        assert url.startswith("http") and "?" not in url, url
        assert "registration_token" not in repr(entries[action].new)
    assert "registration_token" not in logs.getvalue()
