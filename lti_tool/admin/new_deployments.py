"""What a registration does with a deployment it has never seen, as admins change it: the admin
page and ``lti-tool platform set-deployment-policy`` both call ``set_new_deployments``, so both
write the same audit row.

``accept`` lets the first validly signed launch from a new deployment in (Canvas creates the
deployment only when its administrator installs the app, after the registration); ``hold``
keeps it waiting for an administrator's approval. Accepting widens whom the tool serves as
approving a deployment does, so only a tool administrator may turn it on; anyone who may see
the registration may turn it back to ``hold``.
"""

from __future__ import annotations

from lti_tool.admin.audit_log import record_admin_change
from lti_tool.admin.identity import AdminIdentity
from lti_tool.admin.platforms import get_registration
from lti_tool.audit import registration_subject
from lti_tool.container import Services
from lti_tool.errors import Forbidden
from lti_tool.lti import deployment_policy

CHANGE = "registration.new_deployments"


def set_new_deployments(
    services: Services, identity: AdminIdentity, registration_pk: int, policy: str
) -> bool:
    """Set the registration's policy for new deployments (``accept`` or ``hold``); audited
    old -> new. Returns whether it changed (setting the current policy writes nothing)."""
    deployment_policy.check_policy(policy)
    registration = get_registration(services, identity, registration_pk)
    if policy == registration.new_deployments:
        return False
    if policy == deployment_policy.ACCEPT and not identity.is_tool_admin:
        raise Forbidden(
            "tool_admin_only",
            "Only a tool administrator may let new deployments in without approval.",
        )
    with services.db.unit_of_work() as session:
        old = deployment_policy.set_new_deployment_policy(session, registration_pk, policy)
        record_admin_change(
            session,
            identity,
            action=CHANGE,
            subject=registration_subject(registration_pk),
            old={"new_deployments": old},
            new={"new_deployments": policy, "registration": registration.name},
        )
    services.registry_cache.clear()
    return True
