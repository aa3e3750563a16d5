"""Erasure requests on the admin pages, through ``lti_tool.privacy.erasure``: every admin sees
the requests of their scope; only a tool admin decides (erasing cannot be undone)."""

from __future__ import annotations

from lti_tool.admin.identity import AdminIdentity, require_tool_admin
from lti_tool.container import Services
from lti_tool.errors import NotFound
from lti_tool.privacy import erasure
from lti_tool.privacy.erasure import ErasureOutcome, ErasureRequestView


def erasure_requests(
    services: Services, identity: AdminIdentity, status: str | None = "pending"
) -> list[ErasureRequestView]:
    """Requests in the admin's scope, oldest first; ``status`` None lists every status."""
    with services.db.read_only() as session:
        return erasure.list_requests(session, identity.registration_pk, status)


def erasure_request(
    services: Services, identity: AdminIdentity, request_id: int
) -> ErasureRequestView:
    """One request in the admin's scope (NotFound otherwise)."""
    for view in erasure_requests(services, identity, None):
        if view.id == request_id:
            return view
    raise NotFound("no_such_request", f"There is no erasure request {request_id}.")


def approve_erasure(services: Services, identity: AdminIdentity, request_id: int) -> ErasureOutcome:
    """Erase the person now; audited by the privacy service with the admin's name."""
    require_tool_admin(identity, "Approving an erasure request")
    erasure_request(services, identity, request_id)
    return erasure.approve(services, request_id, identity.label)


def reject_erasure(
    services: Services, identity: AdminIdentity, request_id: int, reason: str
) -> None:
    """Close the request without erasing; the reason is required and audited."""
    require_tool_admin(identity, "Rejecting an erasure request")
    erasure_request(services, identity, request_id)
    erasure.reject(services, request_id, identity.label, reason)
