"""Pathway tests through the web: launches that open the tool, its server-rendered pages read
as a tree (standard library only), and the data tests put straight into the database
(completion copies will arrive from the LMSs later)."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.persistence.models import AuditEntry, CompletionRecord, User
from tests.support.lti import Launcher, launch_token

_VOID = {"meta", "link", "br", "hr", "img", "input", "source", "col", "area", "base", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The text inside, whitespace collapsed (as a screen reader would read it)."""
        parts: list[str] = []
        for child in self.children:
            parts.append(child if isinstance(child, str) else f" {child.text} ")
        return " ".join("".join(parts).split())

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def walk(self) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.walk()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Node]:
        return [
            node
            for node in self.walk()
            if (tag is None or node.tag == tag)
            and (cls is None or cls in node.classes)
            and all(node.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def find(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> Node:
        found = self.find_all(tag, cls, **attrs)
        assert found, f"no <{tag} class={cls} {attrs}> in the page"
        return found[0]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self._stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self._stack[-1].children.append(node)
        if tag not in _VOID:
            self._stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._stack) - 1, 0, -1):
            if self._stack[depth].tag == tag:
                del self._stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._stack[-1].children.append(data)


def parse_html(page: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(page)
    builder.close()
    return builder.root


def csrf_token(page: str) -> str:
    inputs = parse_html(page).find_all("input", name="csrf_token")
    assert inputs, "the page has no form with a csrf_token"
    return inputs[0].attrs["value"]


BADGE_STATUS = {"Complete": "completed", "In progress": "in_progress", "Not started": "not_started"}
_HOURS = re.compile(r"CPD hours: (\d+) of (\d+)")


@dataclass(frozen=True)
class PageModule:
    code: str
    hours_completed: int
    hours_required: int
    progress: tuple[str, str]  # <progress value, max>
    badges: tuple[str, ...]
    statuses: dict[str, str]  # course code -> status as the badge says it
    notes: dict[str, str]  # course code -> "Compulsory", "Optional · counts toward the hours"…


@dataclass(frozen=True)
class ChecklistPage:
    """What the checklist page shows, in the terms of the JSON API."""

    root: Node
    modules: dict[str, PageModule]
    next_steps: list[str]

    @property
    def text(self) -> str:
        return self.root.find("main").text


def read_checklist_page(page: str) -> ChecklistPage:
    root = parse_html(page)
    modules: dict[str, PageModule] = {}
    for section in root.find_all("section", cls="module"):
        code = section.find("h2").attrs["id"].removeprefix("module-")
        hours = _HOURS.search(section.find("label").text)
        assert hours, section.find("label").text
        bar = section.find("progress")
        statuses: dict[str, str] = {}
        notes: dict[str, str] = {}
        # Outstanding courses first, then the completed ones folded under their summary.
        rows = [row for body in section.find_all("tbody") for row in body.find_all("tr")]
        for row in rows:
            course = row.find("span", cls="code").text
            status_cell = row.find_all("td")[1]
            statuses[course] = BADGE_STATUS[
                status_cell.find("span", cls="badge").text.strip("✔◐○ ")
            ]
            notes[course] = row.find("span", cls="muted").text
        summary = section.find("div", cls="module-summary")
        modules[code] = PageModule(
            code=code,
            hours_completed=int(hours.group(1)),
            hours_required=int(hours.group(2)),
            progress=(bar.attrs["value"], bar.attrs["max"]),
            badges=tuple(b.text for b in summary.find_all("span", cls="badge")),
            statuses=statuses,
            notes=notes,
        )
    steps = root.find_all("section", cls="next")
    next_steps = [li.text for li in steps[0].find_all("li")] if steps else []
    return ChecklistPage(root, modules, next_steps)


# --- launches ---------------------------------------------------------------------------------


@dataclass
class Opened:
    """The tool as one person opened it: their browser (cookies) and bearer token."""

    client: FlaskClient
    token: str
    page: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def open_tool(
    launcher: Launcher, user: str = "student1", changes: dict[str, Any] | None = None
) -> Opened:
    """Launch through the sandbox (its own claims), or with ``changes`` to the claims."""
    client = launcher.app.test_client()
    if changes is None:
        response = launcher.through_sandbox(client, user)
    else:
        response = launcher.launch(client, user, changes=changes)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    return Opened(client, launch_token(page), page)


# --- data the tests put in the database -------------------------------------------------------


def user_pk(app: Flask, sub: str) -> int:
    with app.extensions["lti_tool"].db.read_only() as session:
        pk = session.scalar(select(User.id).where(User.sub == sub))
    assert pk is not None, f"user {sub} has not launched yet"
    return int(pk)


def add_completions(
    app: Flask,
    sub: str,
    records: dict[str, tuple[str, dt.date | None, dt.date | None]],
    *,
    source: str = "moodle",
    fetched_at: dt.datetime | None = None,
) -> None:
    """``{course code: (status, started_at, completed_at)}`` for one student, one source."""
    pk = user_pk(app, sub)
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        for code, (status, started, completed) in records.items():
            session.add(
                CompletionRecord(
                    user_pk=pk,
                    course_code=code,
                    status=status,
                    started_at=started,
                    completed_at=completed,
                    source=source,
                    fetched_at=fetched_at or dt.datetime.now(dt.UTC),
                )
            )


def audit_rows(app: Flask) -> list[dict[str, Any]]:
    with app.extensions["lti_tool"].db.read_only() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [
            {
                "action": r.action,
                "actor_user_pk": r.actor_user_pk,
                "context_pk": r.context_pk,
                "subject": r.subject,
                "subject_user_pk": r.subject_user_pk,
                "old": r.old,
                "new": r.new,
                "reason": r.reason,
            }
            for r in rows
        ]


def upload_csv(teacher: Opened, path: str, text: str, **form: str) -> list[str]:
    """Upload ``text`` as a CSV file to the staff form at ``path`` (with ``form``'s other
    fields); the messages of the page it leads to."""
    page = teacher.client.post(
        path,
        data={
            "csrf_token": csrf_token(teacher.page),
            "file": (io.BytesIO(text.encode()), "file.csv"),
            **form,
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    return [p.text for p in parse_html(page).find_all("p", cls="panel")]


def student_page_and_checklist(
    launcher: Launcher, sub: str = "student1", **launch: Any
) -> tuple[str, dict[str, Any]]:
    """``sub``'s launch: the page it lands on (entities unescaped) and the checklist JSON the
    page's token reads (``launch``: the launcher's options, ``changes`` of the claims say)."""
    client = launcher.app.test_client()
    page = launcher.launch(client, sub, **launch).get_data(as_text=True)
    response = client.get(
        "/api/me/checklist", headers={"Authorization": f"Bearer {launch_token(page)}"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return html.unescape(page), dict(response.get_json())
