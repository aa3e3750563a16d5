"""lti-tool privacy … (erasure requests) and lti-tool purge (expired rows, retention)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from lti_tool.cli.common import admin_services
from lti_tool.cli.common import settings as _settings
from lti_tool.cli.main import main

if TYPE_CHECKING:
    from lti_tool.admin.identity import AdminIdentity


def _decider(decided_by: str | None) -> AdminIdentity:
    """Who decided, kept on the request and in the audit log as ``cli:<name>``: the login
    name unless given."""
    from lti_tool.admin.identity import command_line_identity

    return command_line_identity(decided_by or None)


@main.group()
def privacy() -> None:
    """Erasure requests from the Data Privacy Launch."""


@privacy.command("requests")
@click.option(
    "--status",
    type=click.Choice(["pending", "approved", "rejected", "closed", "all"]),
    default="pending",
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def privacy_requests(status: str, as_json: bool) -> None:
    """List erasure requests (pending ones by default), oldest first."""
    from lti_tool.privacy.erasure import list_requests

    with admin_services() as services, services.db.read_only() as session:
        views = list_requests(session, status=None if status == "all" else status)
    if as_json:
        rows: list[dict[str, Any]] = [
            {
                "id": v.id,
                "status": v.status,
                "registration": v.registration_name,
                "sub": v.subject_sub,
                "name": v.subject_name,
                "requested_by": v.requested_by,
                "requested_at": v.requested_at.isoformat(),
                "reason": v.reason,
                "decided_at": v.decided_at.isoformat() if v.decided_at else None,
                "decided_by": v.decided_by,
                "decision_reason": v.decision_reason,
                "erased_counts": v.erased_counts,
            }
            for v in views
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    if not views:
        click.echo(f"no {status if status != 'all' else ''} erasure requests".replace("  ", " "))
    for v in views:
        person = f"{v.subject_name or '(no name)'} [sub {v.subject_sub}]" if v.subject_sub else ""
        click.echo(
            f"#{v.id}  {v.status}  {v.registration_name or '-'}  {person or '(erased)'}  "
            f"asked {v.requested_at:%Y-%m-%d %H:%M}Z by {v.requested_by}"
        )
        if v.reason:
            click.echo(f"      reason: {v.reason}")
        if v.decided_at:
            click.echo(f"      decided {v.decided_at:%Y-%m-%d %H:%M}Z by {v.decided_by}")
        if v.decision_reason:
            click.echo(f"      decision: {v.decision_reason}")
        if v.erased_counts:
            click.echo(f"      erased: {_counts(v.erased_counts)}")


@privacy.command("approve")
@click.argument("request_id", type=int)
@click.option("--by", "decided_by", default=None, help="Your name (default: login name).")
def privacy_approve(request_id: int, decided_by: str | None) -> None:
    """Erase the person named in request REQUEST_ID (audit rows are kept, anonymised)."""
    from lti_tool.admin.erasure import approve_erasure

    with admin_services() as services:
        outcome = approve_erasure(services, _decider(decided_by), request_id)
    click.echo(f"erasure request #{outcome.request_id} approved; erased: {_counts(outcome.counts)}")


@privacy.command("reject")
@click.argument("request_id", type=int)
@click.option("--reason", required=True, help="Why (kept with the request).")
@click.option("--by", "decided_by", default=None, help="Your name (default: login name).")
def privacy_reject(request_id: int, reason: str, decided_by: str | None) -> None:
    """Reject request REQUEST_ID; nothing is erased."""
    from lti_tool.admin.erasure import reject_erasure

    with admin_services() as services:
        reject_erasure(services, _decider(decided_by), request_id, reason)
    click.echo(f"erasure request #{request_id} rejected")


@main.command("purge")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@click.option(
    "--older-than",
    "older_than",
    type=click.IntRange(min=1),
    default=None,
    help="Days of inactivity (default: the retention_days setting).",
)
def purge_command(dry_run: bool, older_than: int | None) -> None:
    """Delete expired short-lived rows, and the data of courses inactive longer than the
    retention period."""
    from lti_tool.lti.store_purge import purge_store
    from lti_tool.privacy.retention import purge

    days = older_than or _settings().retention_days
    with admin_services() as services:
        if not dry_run:
            gone = purge_store(services)
            click.echo(f"removed {gone} expired short-lived rows (login state, launch sessions)")
        if not days:
            click.echo(
                "retention is off (retention_days = 0): no course data removed; set "
                "LTI_TOOL_RETENTION_DAYS or pass --older-than DAYS"
            )
            return
        report = purge(services, days, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    click.echo(
        f"courses with no activity since {report.cutoff:%Y-%m-%d %H:%M}Z "
        f"(launch, roster fetch or course update; {days} days):"
    )
    if not report.contexts:
        click.echo("  none")
    for item in report.contexts:
        click.echo(
            f"  {verb} {item.registration} course {item.context_id} "
            f"({item.title or 'untitled'}), last active {item.last_activity:%Y-%m-%d}: "
            f"{_counts(item.counts)}"
        )
    people = f"{report.users_erased} people in no course any more"
    if dry_run:
        click.echo(f"{verb} {people}")
        click.echo("dry run: nothing was changed")
    else:
        click.echo(f"{verb} {people}: {_counts(report.user_counts.as_dict())}")


def _counts(counts: dict[str, Any]) -> str:
    shown = [f"{name.replace('_', ' ')} {n}" for name, n in counts.items() if n]
    return ", ".join(shown) or "nothing"
