"""Platform registrations and deployments: add, find, activate. What a registration does with a
deployment it has never seen (``new_deployments``: accept or hold) is in
``deployment_policy.py``; what a new registration must be (the rules of the command line and
the admin page alike) in ``platform_spec.py``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.errors import NotFound
from lti_tool.lti.deployment_policy import APPROVED, PENDING, check_policy
from lti_tool.lti.platform_spec import PLATFORM_KINDS as PLATFORM_KINDS
from lti_tool.lti.platform_spec import PlatformSpec as PlatformSpec
from lti_tool.lti.platform_spec import RegistryError as RegistryError
from lti_tool.lti.platform_spec import check_platform_url as check_platform_url
from lti_tool.lti.platform_spec import is_loopback_host as is_loopback_host
from lti_tool.lti.platform_spec import platform_spec_problems
from lti_tool.persistence.models import Deployment, Registration


def add_platform(session: Session, spec: PlatformSpec, *, development: bool) -> Registration:
    """Register a platform with its deployments (all active: an admin named them)."""
    check_policy(spec.new_deployments)
    problems = platform_spec_problems(spec, development=development)
    if problems:
        raise next(iter(problems.values()))
    issuer = spec.issuer.strip()
    registration = Registration(
        name=spec.name.strip(),
        kind=spec.kind,
        issuer=issuer,
        client_id=spec.client_id.strip(),
        auth_login_url=spec.auth_login_url.strip(),
        auth_token_url=spec.auth_token_url.strip(),
        key_set_url=spec.key_set_url.strip(),
        auth_audience=(spec.auth_audience or "").strip() or None,
        new_deployments=spec.new_deployments,
    )
    for deployment_id in dict.fromkeys(d.strip() for d in spec.deployment_ids if d.strip()):
        registration.deployments.append(
            Deployment(deployment_id=deployment_id, active=True, approval=APPROVED)
        )
    session.add(registration)
    try:
        session.flush()
    except IntegrityError as exc:
        raise RegistryError(
            "duplicate",
            f"a registration named {spec.name!r} or for issuer {issuer!r} with client_id "
            f"{spec.client_id!r} already exists",
        ) from exc
    return registration


# What identifies the platform's endpoints and keys: replacing them decides whose signatures
# the tool trusts for this registration, so only a tool administrator does it.
ENDPOINT_FIELDS = ("auth_login_url", "auth_token_url", "key_set_url", "auth_audience")
_ENDPOINT_LABELS = {
    "auth_login_url": "auth login URL",
    "auth_token_url": "auth token URL",
    "key_set_url": "key set URL",
}


def endpoints_of(registration: Registration) -> dict[str, str | None]:
    """The registration's endpoints and keys, by field name."""
    return {name: getattr(registration, name) for name in ENDPOINT_FIELDS}


def checked_endpoints(
    current: dict[str, str | None], changes: dict[str, str | None], *, development: bool
) -> dict[str, str | None]:
    """``current`` with ``changes`` applied and checked (URLs as for ``add_platform``; an empty
    auth audience clears it). Fields missing from ``changes`` keep their value."""
    new = dict(current)
    for name, value in changes.items():
        if name not in ENDPOINT_FIELDS:
            raise RegistryError("bad_field", f"{name!r} is not an endpoint of a registration")
        if value is None:
            continue
        if name == "auth_audience":
            new[name] = value.strip() or None
            if new[name] and len(str(new[name])) > 1024:
                raise RegistryError("bad_url", "the auth audience is longer than 1024 characters")
            continue
        if len(value) > 1024:
            raise RegistryError(
                "bad_url", f"{_ENDPOINT_LABELS[name]} is longer than 1024 characters"
            )
        new[name] = check_platform_url(value, development=development, field=_ENDPOINT_LABELS[name])
    return new


def replace_endpoints(
    session: Session,
    registration: Registration,
    changes: dict[str, str | None],
    *,
    development: bool,
) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """Replace the registration's endpoints and keys; returns (old, new) of the fields that
    changed (both empty when nothing did). The caller audits it."""
    current = endpoints_of(registration)
    wanted = checked_endpoints(current, changes, development=development)
    changed = [name for name in ENDPOINT_FIELDS if wanted[name] != current[name]]
    for name in changed:
        setattr(registration, name, wanted[name])
    session.flush()
    return {n: current[n] for n in changed}, {n: wanted[n] for n in changed}


def get_by_name(session: Session, name: str) -> Registration:
    registration = session.scalar(select(Registration).where(Registration.name == name))
    if registration is None:
        raise NotFound("unknown_registration", f"no registration named {name!r}")
    return registration


def list_registrations(session: Session) -> list[Registration]:
    return list(session.scalars(select(Registration).order_by(Registration.name)))


def find_registration(
    session: Session, issuer: str, client_id: str | None, registration_pk: int | None = None
) -> Registration | None:
    """Look a registration up by issuer + client_id (Canvas shares one issuer across
    institutions). Without a client_id, a registration id from the login URL decides, or the
    issuer's only registration, or, when it has several, the OLDEST one with an active
    deployment: a newer one (say from Dynamic Registration, which anyone may start) never
    shadows the one already in use."""
    if registration_pk is not None:
        row = session.get(Registration, registration_pk)
        if row is None or row.issuer != issuer:
            return None
        if client_id and row.client_id != client_id:
            return None
        return row
    if client_id:
        return session.scalar(
            select(Registration).where(
                Registration.issuer == issuer, Registration.client_id == client_id
            )
        )
    rows = list(session.scalars(select(Registration).where(Registration.issuer == issuer).limit(2)))
    if len(rows) < 2:
        return rows[0] if rows else None
    return session.scalar(
        select(Registration)
        .where(
            Registration.issuer == issuer,
            Registration.id.in_(select(Deployment.registration_id).where(Deployment.active)),
        )
        .order_by(Registration.created_at, Registration.id)
        .limit(1)
    )


def find_deployment(
    session: Session, registration_pk: int, deployment_id: str
) -> Deployment | None:
    return session.scalar(
        select(Deployment).where(
            Deployment.registration_id == registration_pk,
            Deployment.deployment_id == deployment_id,
        )
    )


def record_unknown_deployment(session: Session, registration_pk: int, deployment_id: str) -> None:
    """Remember a deployment, inactive until an admin activates it (tests and fixtures).
    Idempotent under concurrency: a racing insert of the same row is ignored."""
    if find_deployment(session, registration_pk, deployment_id) is not None:
        return
    try:
        with session.begin_nested():
            session.add(
                Deployment(
                    registration_id=registration_pk,
                    deployment_id=deployment_id,
                    active=False,
                    approval=PENDING,
                )
            )
    except IntegrityError:
        pass


def set_deployment_active(
    session: Session,
    name: str,
    deployment_id: str,
    active: bool = True,
    approval: str | None = None,
) -> Deployment:
    """Activate (or deactivate) a deployment of the registration called ``name``; an id not
    seen yet is created, so an admin can pre-approve it. An active deployment is approved;
    an inactive one keeps its approval (a new one waits) unless ``approval`` is given. Who
    may do which is ``admin/deployments.py``'s to decide."""
    registration = get_by_name(session, name)
    deployment = find_deployment(session, registration.id, deployment_id)
    if deployment is None:
        deployment = Deployment(
            registration_id=registration.id,
            deployment_id=deployment_id,
            active=active,
            approval=PENDING,
        )
        session.add(deployment)
    deployment.active = active
    deployment.approval = APPROVED if active else (approval or deployment.approval)
    session.flush()
    return deployment
