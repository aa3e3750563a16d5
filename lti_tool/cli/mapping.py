"""lti-tool platform set-completion, lti-tool mapping …: where completion comes from."""

from __future__ import annotations

import json
from typing import Any

import click

from lti_tool.cli.common import database, settings
from lti_tool.cli.main import main
from lti_tool.cli.platforms import platform
from lti_tool.errors import ToolError


def _codes(current: Any) -> list[str]:
    from lti_tool.pathway.catalog import Catalog

    catalog = Catalog.load(current.qualifications_path, current.default_qualification)
    codes: list[str] = []
    for qualification in catalog.qualifications.values():
        for module in qualification.modules:
            codes.extend(c.code for c in module.courses if c.code not in codes)
    return codes


@platform.command("set-completion")
@click.argument("name")
@click.option("--moodle-url", help="The site's …/webservice/rest/server.php endpoint.")
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
    """Set where registration NAME's completion data comes from."""
    from lti_tool.completion.setup import configure_source
    from lti_tool.crypto import SecretBox

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
    current = settings()
    try:
        with database(current).unit_of_work() as session:
            configure_source(
                session,
                SecretBox(current.secret_key),
                name,
                kind=kind,
                endpoint_url=moodle_url or canvas_url,
                token=moodle_token or canvas_token,
                mode=mode,
                ags_threshold=threshold,
                development=current.is_development,
            )
    except ToolError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"{name}: completion from {kind} ({mode} mapping); the token is stored encrypted")
    if kind == "moodle" and moodle_url and moodle_token:
        _check_moodle(current, moodle_url, moodle_token)


def _check_moodle(current: Any, url: str, token: str) -> None:
    from lti_tool.container import outbound_session
    from lti_tool.lms.moodle.client import MoodleWsClient
    from lti_tool.lms.source import SourceError

    client = MoodleWsClient(url, token, outbound_session(current))
    try:
        info = client.check_service()
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
    """Map CPD course CODE of registration NAME."""
    from lti_tool.completion.setup import set_mapping

    current = settings()
    if code not in _codes(current):
        raise click.ClickException(f"{code} is not a CPD course of any known qualification")
    try:
        with database(current).unit_of_work() as session:
            set_mapping(session, name, code, course_id, activity_id)
    except ToolError as exc:
        raise click.ClickException(exc.message) from exc
    where = (
        f"activity {activity_id} of course {course_id}" if activity_id else f"course {course_id}"
    )
    click.echo(f"{code} → {where}")


@mapping.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def mapping_show(name: str, as_json: bool) -> None:
    """Show registration NAME's mappings and which CPD codes are still unmapped."""
    from lti_tool.completion.setup import mappings_of
    from lti_tool.lti.registry import get_by_name

    current = settings()
    try:
        with database(current).read_only() as session:
            registration = get_by_name(session, name)
            rows = [
                {
                    "code": r.course_code,
                    "course_id": r.course_id,
                    "activity_id": r.activity_id,
                    "label": r.label,
                    "origin": r.origin,
                }
                for r in mappings_of(session, registration.id)
            ]
    except ToolError as exc:
        raise click.ClickException(exc.message) from exc
    unmapped = [c for c in _codes(current) if c not in {r["code"] for r in rows}]
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
    """Find CPD courses in the LMS by code; print them, and store them with --apply."""
    from lti_tool.completion.setup import set_mapping, source_settings
    from lti_tool.container import outbound_session
    from lti_tool.crypto import SecretBox
    from lti_tool.lms.canvas.client import CanvasRestClient
    from lti_tool.lms.discovery import discover_canvas, discover_moodle
    from lti_tool.lms.moodle.client import MoodleWsClient
    from lti_tool.lms.source import MappingMode, SourceError
    from lti_tool.lti.registry import get_by_name

    current = settings()
    db = database(current)
    with db.read_only() as session:
        try:
            registration = get_by_name(session, name)
        except ToolError as exc:
            raise click.ClickException(exc.message) from exc
        source = source_settings(session, SecretBox(current.secret_key), registration.id)
    if source is None or source.kind not in {"moodle", "canvas"} or not source.endpoint_url:
        raise click.ClickException(
            f"{name} has no Moodle or Canvas source: run "
            f"lti-tool platform set-completion {name} … first"
        )
    assert source.token is not None
    chosen = MappingMode.COURSE if mode == "courses" else MappingMode.ACTIVITY
    if chosen is MappingMode.ACTIVITY and not course_id:
        raise click.UsageError("--mode activities needs --course")
    http = outbound_session(current)
    codes = _codes(current)
    try:
        if source.kind == "moodle":
            found = discover_moodle(
                MoodleWsClient(source.endpoint_url, source.token, http), codes, chosen, course_id
            )
        else:
            found = discover_canvas(
                CanvasRestClient(source.endpoint_url, source.token, http), codes, chosen, course_id
            )
    except SourceError as exc:
        raise click.ClickException(exc.message) from exc
    for p in found.proposals:
        where = f"course {p.course_id}" + (f" activity {p.activity_id}" if p.activity_id else "")
        click.echo(f"{p.code}: {where}  {p.label}  (by {p.matched_by})")
    for code, options in found.ambiguous.items():
        click.echo(f"{code}: several matches, set it by hand: {'; '.join(options)}")
    if found.missing:
        click.echo("not found: " + ", ".join(found.missing))
    if apply_:
        with db.unit_of_work() as session:
            for p in found.proposals:
                set_mapping(
                    session, name, p.code, p.course_id, p.activity_id, p.label, origin="discovered"
                )
        click.echo(f"stored {len(found.proposals)} mappings")
    elif found.proposals:
        click.echo("(nothing stored: run again with --apply to keep these)")
