"""An LTI ``sub`` is unique only within one platform (Moodle numbers its users 2, 3, 4 … on
every site; Canvas cloud institutions share one issuer): the same ``sub`` on two registrations
is two people. Each one's completion copy, the lock of its refresh and the record of its last
attempt are their own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lti_tool.completion.setup import configure_source, set_mapping
from lti_tool.crypto import SecretBox
from lti_tool.lti import claims as c
from lti_tool.lti import registry
from lti_tool.persistence.models import Registration, User
from lti_tool.sandbox.demo_data import course_id
from lti_tool.sandbox.moodle_ws import SANDBOX_TOKEN as MOODLE_TOKEN
from tests.support.class_refresh import with_moodle_source
from tests.support.lti import Launcher, launch_token

OTHER_CLIENT, OTHER_DEPLOYMENT = "second-site-client", "second-site-deployment"


def _statuses(client: Any, token: str) -> dict[str, Any]:
    response = client.get("/api/me/checklist", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body = response.get_json()
    return {r["code"]: r["status"] for m in body["modules"] for r in m["requirements"]}


def _second_site(launcher: Launcher) -> None:
    """Another registration on the same issuer (as Canvas cloud institutions are), reading
    only GB080 from its LMS."""
    services = launcher.app.extensions["lti_tool"]
    platform = launcher.platform
    with services.db.unit_of_work() as session:
        registry.add_platform(
            session,
            registry.PlatformSpec(
                name="second-site",
                issuer=platform.issuer,
                client_id=OTHER_CLIENT,
                auth_login_url=platform.auth_url,
                auth_token_url=platform.token_url,
                key_set_url=platform.jwks_url,
                kind="generic",
                deployment_ids=[OTHER_DEPLOYMENT],
            ),
            development=True,
        )
        configure_source(
            session,
            SecretBox(services.settings.secret_key),
            "second-site",
            kind="moodle",
            endpoint_url=platform.issuer + "/moodle/webservice/rest/server.php",
            token=MOODLE_TOKEN,
            mode="course",
            development=True,
        )
        set_mapping(session, "second-site", "GB080", str(course_id("GB080")))
    services.registry_cache.clear()


def _launch_on_second_site(launcher: Launcher, client: Any, user: str) -> str:
    login = launcher.login(client, user, client_id=OTHER_CLIENT, lti_deployment_id=OTHER_DEPLOYMENT)
    claims = launcher.claims(user, login.nonce)
    claims["aud"] = OTHER_CLIENT
    claims[c.DEPLOYMENT_ID] = OTHER_DEPLOYMENT
    response = launcher.post_launch(client, launcher.platform.sign(claims), login.state)
    return launch_token(response.get_data(as_text=True))


def test_the_same_sub_on_another_registration_is_another_person(launcher: Launcher) -> None:
    with_moodle_source(launcher)
    services = launcher.app.extensions["lti_tool"]
    here = launcher.app.test_client()
    mine = _statuses(here, launch_token(launcher.launch(here, "student1").get_data(as_text=True)))
    assert mine["GB081"] == "completed"
    _second_site(launcher)
    with services.db.read_only() as session:
        first = session.scalar(
            select(User.id).join(Registration).where(Registration.name == "sandbox")
        )
    # A refresh of the first site's 1001 is under way (its lock is held) when the second
    # site's 1001 opens the tool for the first time.
    assert services.store.add("refreshing", str(first), {}, 60)

    there = launcher.app.test_client()
    theirs = _statuses(there, _launch_on_second_site(launcher, there, "student1"))

    assert theirs["GB080"] == "completed"  # read for them, not skipped for the other's lock
    assert theirs["GB081"] != "completed"  # the first site's copy is not theirs (unmapped)
    with services.db.read_only() as session:
        assert len(session.scalars(select(User.id).where(User.sub == "1001")).all()) == 2
