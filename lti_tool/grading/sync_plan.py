"""What a grade sync works from, read once before it sends: the course's registration, its
AGS endpoint (the container of columns and the scopes granted) and each assessment module's
own placement in the course (``module_columns.py`` says what a placement's column is for)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from lti_tool.errors import ToolError
from lti_tool.grading.module_columns import AgsEndpoint
from lti_tool.pathway.catalog import qualification_for
from lti_tool.persistence.models import Context, Deployment, Registration, ResourceLink
from lti_tool.rules.catalog import Catalog


@dataclass(frozen=True)
class ModulePlacement:
    """A resource link placed for one module (custom ``module``), and its line item if its
    launches carried one."""

    resource_link_id: str
    lineitem_url: str | None


@dataclass(frozen=True)
class SyncPlan:
    context_pk: int
    registration_pk: int
    platform_kind: str
    endpoint: AgsEndpoint
    placements: Mapping[str, ModulePlacement]  # by module code


def read_plan(session: Any, context_pk: int) -> SyncPlan:
    """The plan of a sync of the course ``context_pk``."""
    row = session.execute(
        select(Context, Deployment.registration_id, Registration.kind)
        .join(Deployment, Deployment.id == Context.deployment_pk)
        .join(Registration, Registration.id == Deployment.registration_id)
        .where(Context.id == context_pk)
    ).first()
    if row is None:
        raise ToolError("no_context", "The course is unknown.")
    context, registration_pk, kind = row
    links = session.execute(
        select(ResourceLink.resource_link_id, ResourceLink.ags_lineitem_url, ResourceLink.custom)
        .where(ResourceLink.context_pk == context_pk)
        .order_by(ResourceLink.ags_lineitem_url.is_(None), ResourceLink.id)
    ).all()
    placements: dict[str, ModulePlacement] = {}
    for link_id, lineitem_url, custom in links:
        module = custom.get("module") if isinstance(custom, dict) else None
        if isinstance(module, str) and module.strip():
            # A module placed twice: the placement with a column, then the first placed.
            placements.setdefault(module.strip(), ModulePlacement(link_id, lineitem_url))
    endpoint = AgsEndpoint(context.ags_lineitems_url, frozenset(context.ags_scopes or []))
    return SyncPlan(context_pk, int(registration_pk), str(kind), endpoint, placements)


def column_titles(
    session: Any, catalog: Catalog, context_pk: int, qualification_code: str | None
) -> dict[str, str]:
    """Each module's title for a column the sync makes, by module code: from the qualification
    the starting launch followed (its link's custom ``qualification`` beats the course's
    choice, as on every page), else the course's own. Another file may use the same module
    code with another title; a module neither has (the course tracked another before) takes
    its title from any file that has it."""
    titles = {m.code: m.title for q in catalog.qualifications.values() for m in q.modules}
    course = qualification_for(session, catalog, context_pk, None)
    titles.update({m.code: m.title for m in course.modules})
    launched = catalog.find(qualification_code) if qualification_code else None
    titles.update({m.code: m.title for m in launched.modules} if launched else {})
    return titles
