"""lti-tool platform set-completion, lti-tool mapping …: where completion comes from."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from lti_tool.cli.common import admin_services
from lti_tool.cli.main import main
from lti_tool.cli.platforms import platform
from lti_tool.errors import ToolError

if TYPE_CHECKING:
    from lti_tool.container import Services
    from lti_tool.lms.discovery import Discovery


@platform.command("set-completion")
@click.argument("name")
@click.option(
    "--moodle-url",
    help="The Moodle site's address (or its …/webservice/rest/server.php endpoint).",
)
@click.option("--moodle-token", help="A web-service token of the tool's external service.")
@click.option("--canvas-url", help="The Canvas site root, e.g. https://school.instructure.com")
@click.option("--canvas-token", help="A Canvas API access token.")
@click.option("--ags", "use_ags", is_flag=True, help="Read AGS results of the launch context.")
@click.option("--manual", is_flag=True, help="Only manual records and CSV imports.")
@click.option(
    "--mode",
    type=click.Choice(["course", "activity"]),
    default="course",
    show_default=True,
    help="One LMS course per CPD course, or one activity each.",
)
@click.option(
    "--threshold",
    type=float,
    default=None,
    help="AGS: fraction of the maximum score that counts as completed (default 0.5).",
)
def set_completion(
    name: str,
    moodle_url: str | None,
    moodle_token: str | None,
    canvas_url: str | None,
    canvas_token: str | None,
    use_ags: bool,
    manual: bool,
    mode: str,
    threshold: float | None,
) -> None:
    """Set where registration NAME's completion data comes from (audited)."""
    from lti_tool.admin.identity import command_line_identity
    from lti_tool.admin.platforms import get_registration, registration_pk_by_name
    from lti_tool.admin.sources import SourceForm, change_source

    chosen = [
        k
        for k, v in (
            ("moodle", moodle_url or moodle_token),
            ("canvas", canvas_url or canvas_token),
            ("ags", use_ags),
            ("manual", manual),
        )
        if v
    ]
    if len(chosen) != 1:
        raise click.UsageError(
            "choose one source: --moodle-url/--moodle-token, "
            "--canvas-url/--canvas-token, --ags or --manual"
        )
    kind = chosen[0]
    form = SourceForm(
        kind=kind,
        endpoint_url=moodle_url or canvas_url or "",
        token=moodle_token or canvas_token or "",
        mode=mode,
        ags_threshold="" if threshold is None else str(threshold),
    )
    identity = command_line_identity()
    with admin_services() as services:
        pk = registration_pk_by_name(services, identity, name)
        change_source(services, identity, pk, form)
        click.echo(
            f"{name}: completion from {kind} ({mode} mapping); the token is stored encrypted"
        )
        if kind == "moodle" and moodle_url and moodle_token:
            issuer = get_registration(services, identity, pk).issuer
            _check_moodle(services, moodle_url, moodle_token, issuer)


def _check_moodle(services: Services, url: str, token: str, issuer: str) -> None:
    from lti_tool.admin.sources import check_moodle_service
    from lti_tool.lms.source import SourceError

    try:
        info = check_moodle_service(services, url, token, issuer)
    except SourceError as exc:
        click.echo(f"warning: the Moodle check failed: {exc.message}", err=True)
        return
    click.echo(f"checked: {info.site_name} ({info.release}); the service has every function")


@main.group()
def mapping() -> None:
    """CPD course → LMS course/activity mappings."""


@mapping.command("set")
@click.argument("name")
@click.argument("code")
@click.option("--course", "course_id", required=True, help="LMS course id.")
@click.option(
    "--activity",
    "activity_id",
    default=None,
    help="Moodle cmid or Canvas module id inside that course.",
)
def mapping_set(name: str, code: str, course_id: str, activity_id: str | None) -> None:
    """Map CPD course CODE of registration NAME (audited)."""
    from lti_tool.admin.identity import command_line_identity
    from lti_tool.admin.mapping import set_course_mapping
    from lti_tool.admin.platforms import registration_pk_by_name

    identity = command_line_identity()
    with admin_services() as services:
        pk = registration_pk_by_name(services, identity, name)
        set_course_mapping(services, identity, pk, code, course_id, activity_id)
    where = (
        f"activity {activity_id} of course {course_id}" if activity_id else f"course {course_id}"
    )
    click.echo(f"{code} → {where}")


@mapping.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def mapping_show(name: str, as_json: bool) -> None:
    """Show registration NAME's mappings and which CPD codes are still unmapped."""
    from lti_tool.admin.identity import command_line_identity
    from lti_tool.admin.mapping import mapping_view
    from lti_tool.admin.platforms import registration_pk_by_name

    identity = command_line_identity()
    with admin_services() as services:
        view = mapping_view(services, identity, registration_pk_by_name(services, identity, name))
    rows = [
        {
            "code": r.code,
            "course_id": r.course_id,
            "activity_id": r.activity_id,
            "label": r.label,
            "origin": r.origin,
        }
        for r in sorted(view.rows, key=lambda r: r.code)
        if r.course_id is not None
    ]
    unmapped = view.unmapped
    if as_json:
        click.echo(json.dumps({"mappings": rows, "unmapped": unmapped}, indent=2))
        return
    for r in rows:
        where = f"course {r['course_id']}" + (
            f" activity {r['activity_id']}" if r["activity_id"] else ""
        )
        click.echo(f"{r['code']}: {where}  {r['label'] or ''} [{r['origin']}]")
    if unmapped:
        click.echo("unmapped: " + ", ".join(unmapped))


@mapping.command("discover")
@click.argument("name")
@click.option(
    "--mode", type=click.Choice(["courses", "activities"]), default="courses", show_default=True
)
@click.option(
    "--course",
    "course_id",
    default=None,
    help="With --mode activities: the LMS course holding the CPD activities.",
)
@click.option("--apply", "apply_", is_flag=True, help="Store what was found.")
def mapping_discover(name: str, mode: str, course_id: str | None, apply_: bool) -> None:
    """Find CPD courses in the LMS by code; print them, and store them with --apply
    (audited)."""
    from lti_tool.admin.identity import command_line_identity
    from lti_tool.admin.mapping import apply_discovery, discover_mappings
    from lti_tool.admin.platforms import registration_pk_by_name

    if mode == "activities" and not course_id:
        raise click.UsageError("--mode activities needs --course")
    identity = command_line_identity()
    with admin_services() as services:
        pk = registration_pk_by_name(services, identity, name)
        try:
            result = discover_mappings(services, identity, pk, mode, course_id)
        except ToolError as exc:
            if exc.code != "no_lms_source":
                raise
            raise click.ClickException(
                f"{name} has no Moodle or Canvas source: run "
                f"lti-tool platform set-completion {name} … first"
            ) from exc
        _print_discovery(result.found)
        if apply_:
            stored = apply_discovery(services, identity, pk, result.discovery_id)
            click.echo(f"stored {stored} mappings")
        elif result.found.proposals:
            click.echo("(nothing stored: run again with --apply to keep these)")


def _print_discovery(found: Discovery) -> None:
    for p in found.proposals:
        where = f"course {p.course_id}" + (f" activity {p.activity_id}" if p.activity_id else "")
        click.echo(f"{p.code}: {where}  {p.label}  (by {p.matched_by})")
    for code, options in found.ambiguous.items():
        click.echo(f"{code}: several matches, set it by hand: {'; '.join(options)}")
    if found.missing:
        click.echo("not found: " + ", ".join(found.missing))
