"""Registering a platform on the admin page: the presets (Moodle from its site address,
Canvas cloud and its test and beta copies, any other LTI 1.3 platform by hand) and the form's
checks in plain words. The rules are those of ``lti-tool platform add``
(``lti/platform_spec.py``) and the save is the same audited ``add_registration``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from sqlalchemy import select

from lti_tool.admin.identity import AdminIdentity, require_tool_admin
from lti_tool.admin.platforms import add_registration
from lti_tool.container import Services
from lti_tool.errors import InvalidInput
from lti_tool.lms.moodle.site_address import NotAMoodleAddress, moodle_site_root
from lti_tool.lti import platform_spec, registry
from lti_tool.lti.dynreg.records import unique_name
from lti_tool.persistence.models import Registration

KINDS = {"moodle": "Moodle", "canvas": "Canvas", "generic": "Other LTI 1.3 platform"}


@dataclass(frozen=True)
class CanvasSite:
    label: str
    issuer: str
    sso: str  # where Instructure-hosted Canvas signs people in and publishes its keys


CANVAS_SITES = {
    "production": CanvasSite(
        "Canvas cloud (your live site)",
        "https://canvas.instructure.com",
        "https://sso.canvaslms.com",
    ),
    "test": CanvasSite(
        "Canvas test site (…test.instructure.com)",
        "https://canvas.test.instructure.com",
        "https://sso.test.canvaslms.com",
    ),
    "beta": CanvasSite(
        "Canvas beta site (…beta.instructure.com)",
        "https://canvas.beta.instructure.com",
        "https://sso.beta.canvaslms.com",
    ),
}

# What the form calls its fields, for the messages beside them.
LABELS = {
    "name": "Name",
    "site_address": "Moodle site address",
    "canvas_site": "Canvas site",
    "issuer": "Platform ID (issuer)",
    "client_id": "Client ID",
    "auth_login_url": "Authentication request URL",
    "auth_token_url": "Access token URL",
    "key_set_url": "Public keyset URL",
    "deployment_id": "Deployment ID",
    "kind": "Kind of platform",
}


@dataclass(frozen=True)
class PlatformForm:
    """What the form holds, as typed."""

    kind: str = "moodle"
    name: str = ""
    site_address: str = ""
    canvas_site: str = "production"
    issuer: str = ""
    client_id: str = ""
    auth_login_url: str = ""
    auth_token_url: str = ""
    key_set_url: str = ""
    deployment_id: str = ""


class FormProblems(InvalidInput):
    """The form cannot be saved; ``problems`` says why, field by field, in plain words."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(
            "check_the_form",
            "Some answers need a change before the platform can be added: see the fields "
            "marked below.",
        )
        self.problems = problems


def _url_words(code: str, development: bool) -> str:
    """A refused address in words (the rule is ``check_platform_url``'s)."""
    if code == "insecure_url" and development:
        return (
            "Give an address starting with https:// (plain http works only for this "
            "computer's own addresses while testing)."
        )
    if code == "insecure_url":
        return (
            "Give an address starting with https://: the tool trusts a platform only over a "
            "secure connection."
        )
    return "Give a full web address starting with https://, for example https://lms.example.ac.uk."


def _problem_words(field: str, exc: registry.RegistryError, value: str, development: bool) -> str:
    if exc.code in {"insecure_url", "bad_url"}:
        return _url_words(exc.code, development)
    if exc.code == "too_long":
        return f"This is too long: at most {platform_spec.MAX_LENGTHS[field]} characters."
    if exc.code == "bad_issuer" and value.strip():
        return "Give the platform ID without anything after a question mark or a # sign."
    if exc.code == "bad_kind":
        return "Choose Moodle, Canvas or another LTI 1.3 platform."
    return "This is needed."


def _name_base(kind: str, address: str) -> str:
    host = urlsplit(address).netloc if address else ""
    return f"{kind}-{host}"[:90] if host else kind


def _free_name(services: Services, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``… (as Dynamic Registration names them)."""
    with services.db.read_only() as session:
        return unique_name(session, base)


def preset(services: Services, identity: AdminIdentity, form: PlatformForm) -> PlatformForm:
    """The whole form filled in for the kind chosen (step one → step two): a Moodle site's
    issuer and ``/mod/lti/…`` endpoints from its address, Canvas's from the site chosen, and a
    free name. ``FormProblems`` when the Moodle site address cannot be used."""
    require_tool_admin(identity, "Registering a platform")
    development = services.settings.is_development
    if form.kind == "moodle":
        try:
            root = moodle_site_root(form.site_address)
            registry.check_platform_url(root, development=development, field="site address")
        except NotAMoodleAddress as exc:
            raise FormProblems({"site_address": f"{str(exc)[0].upper()}{str(exc)[1:]}."}) from exc
        except registry.RegistryError as exc:
            words = _url_words(exc.code, development)
            raise FormProblems({"site_address": words}) from exc
        return replace(
            form,
            site_address=root,
            name=form.name or _free_name(services, _name_base("moodle", root)),
            issuer=root,
            auth_login_url=f"{root}/mod/lti/auth.php",
            auth_token_url=f"{root}/mod/lti/token.php",
            key_set_url=f"{root}/mod/lti/certs.php",
        )
    if form.kind == "canvas":
        site = CANVAS_SITES.get(form.canvas_site)
        if site is None:
            raise FormProblems({"canvas_site": "Choose one of the Canvas sites."})
        base = "canvas" if form.canvas_site == "production" else f"canvas-{form.canvas_site}"
        return replace(
            form,
            name=form.name or _free_name(services, base),
            issuer=site.issuer,
            auth_login_url=f"{site.sso}/api/lti/authorize_redirect",
            auth_token_url=f"{site.sso}/login/oauth2/token",
            key_set_url=f"{site.sso}/api/lti/security/jwks",
        )
    if form.kind == "generic":
        return replace(form, name=form.name or _free_name(services, "lti"))
    raise FormProblems({"kind": "Choose Moodle, Canvas or another LTI 1.3 platform."})


def spec_of(form: PlatformForm) -> registry.PlatformSpec:
    return registry.PlatformSpec(
        name=form.name,
        issuer=form.issuer,
        client_id=form.client_id,
        auth_login_url=form.auth_login_url,
        auth_token_url=form.auth_token_url,
        key_set_url=form.key_set_url,
        kind=form.kind,
        deployment_ids=[form.deployment_id] if form.deployment_id.strip() else [],
    )


def form_problems(services: Services, form: PlatformForm) -> dict[str, str]:
    """Every reason the form cannot be saved, by field, in words: the registry's rules, and a
    name or issuer + client ID already registered."""
    development = services.settings.is_development
    problems: dict[str, str] = {}
    found = platform_spec.platform_spec_problems(spec_of(form), development=development)
    for field, exc in found.items():
        # The form has one deployment ID; the rules know a list of them.
        name = "deployment_id" if field == "deployment_ids" else field
        problems[name] = _problem_words(field, exc, str(getattr(form, name, "")), development)
    with services.db.read_only() as session:
        if "name" not in problems and session.scalar(
            select(Registration.id).where(Registration.name == form.name.strip())
        ):
            problems["name"] = "A registration already has this name: choose another."
        if "client_id" not in problems and "issuer" not in problems:
            existing = session.scalar(
                select(Registration.name).where(
                    Registration.issuer == form.issuer.strip(),
                    Registration.client_id == form.client_id.strip(),
                )
            )
            if existing is not None:
                problems["client_id"] = (
                    f"This platform is already registered with this client ID, as “{existing}”. "
                    "Open that registration instead, or check the client ID the platform shows."
                )
    return problems


def register_platform(services: Services, identity: AdminIdentity, form: PlatformForm) -> int:
    """Check the form and add the registration (audited as ``lti-tool platform add`` is);
    ``FormProblems`` and nothing written when anything is wrong. Returns its pk."""
    require_tool_admin(identity, "Registering a platform")
    problems = form_problems(services, form)
    if problems:
        raise FormProblems(problems)
    try:
        return add_registration(services, identity, spec_of(form))
    except registry.RegistryError as exc:
        if exc.code != "duplicate":
            raise
        # Added by someone else between the check and the save.
        raise FormProblems(
            {"name": "A registration with this name or client ID was added meanwhile."}
        ) from exc
