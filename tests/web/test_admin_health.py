"""The health page on each backend: database and migrations, Redis when configured, RQ
workers or the thread runner, and the latest sync and refresh errors in the admin's scope."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import select

from lti_tool.persistence.models import (
    AssessmentResultRow,
    Context,
    OutboxRow,
    SyncJobRow,
)
from tests.support.lti import Launcher
from tests.support.pathway_web import add_completions, open_tool, parse_html, user_pk
from tests.web.test_admin_access import other_platform, tool_admin


def checks(page: str) -> dict[str, tuple[str, str]]:
    rows = parse_html(page).find("tbody").find_all("tr")
    return {r.find("th").text: (r.find_all("td")[0].text, r.find_all("td")[1].text) for r in rows}


def test_health_reports_each_backend(launcher: Launcher, backend: str) -> None:
    client = tool_admin(launcher.app)
    found = checks(client.get("/admin/health").get_data(as_text=True))
    database = "sqlite" if backend == "sqlite" else "postgresql"
    assert found["Database"] == ("OK", f"{database} reachable")
    state, detail = found["Migrations"]
    assert state == "OK" and detail.startswith("revision 0")
    if backend == "postgres+redis":
        assert found["Redis"] == ("OK", "reachable")
        # No `lti-tool worker` runs in the tests: the page says so.
        assert found["Background jobs"][0] == "Problem"
        assert found["Background jobs"][1].startswith("0 workers running; 0 jobs queued")
    else:
        assert found["Redis"] == ("OK", "not configured: state lives in the database")
        assert found["Background jobs"] == (
            "OK",
            "run in threads of the web process (no Redis)",
        )


def test_health_lists_sync_and_refresh_errors_in_scope(launcher: Launcher) -> None:
    app = launcher.app
    services = app.extensions["lti_tool"]
    open_tool(launcher, "student1")
    open_tool(launcher, "teacher1")
    student = user_pk(app, "1001")
    with services.db.unit_of_work() as session:
        context_pk = session.scalar(select(Context.id))
        assert context_pk is not None
        result = AssessmentResultRow(
            context_pk=context_pk, user_pk=student, module_code="B832", score=70, outcome="pass"
        )
        session.add(result)
        session.flush()
        session.add(
            SyncJobRow(
                id=str(uuid.uuid4()), context_pk=context_pk, status="failed", error="no token"
            )
        )
        session.add(
            OutboxRow(
                result_pk=result.id,
                context_pk=context_pk,
                module_code="B832",
                payload={},
                status="failed",
                attempts=3,
                last_error="Incorrect score received",
            )
        )
    add_completions(app, "1001", {"GB080": ("completed", None, None)})
    services.store.put(
        "refresh",
        str(student),
        {
            "status": "partial",
            "errors": ["GB081: the course has no completion criteria"],
            "at": time.time(),
        },
        3600,
    )
    root = tool_admin(app)
    page = parse_html(root.get("/admin/health").get_data(as_text=True))
    sync = page.find("section", **{"aria-labelledby": "sync-errors"}).text
    assert "no token" in sync and "Incorrect score received" in sync and "B832 score" in sync
    refresh = page.find("section", **{"aria-labelledby": "refresh-errors"}).text
    assert "Sam Student: GB081: the course has no completion criteria" in refresh

    lms_admin = open_tool(launcher, "admin")  # the same platform: sees them
    assert "Incorrect score received" in lms_admin.client.get("/admin/health").get_data(
        as_text=True
    )
    dashboard = lms_admin.client.get("/admin/").get_data(as_text=True)
    assert "2 recent grade-sync problems, 1 completion-refresh problem." in dashboard

    # Platform B's admin sees none of platform A's errors.
    b_pk, _ = other_platform(app)
    from lti_tool.admin.health import health_report
    from lti_tool.admin.identity import AdminIdentity

    report = health_report(services, AdminIdentity("B admin", "lms_admin", b_pk, None))
    assert report.sync_problems == [] and report.refresh_problems == []
