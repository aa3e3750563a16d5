"""The Content-Security-Policy names only ACTIVE registrations (issue 10, item 12): a
registration nobody approved (say one a stranger made through Dynamic Registration) may not
frame the tool nor receive its forms; ``form-action`` is the tool, the active platforms and,
on the deep-linking return page, the return URL the platform's signed request named."""

from __future__ import annotations

from typing import Any

from flask import Flask

from lti_tool.lti import registry
from lti_tool.sandbox.app import create_sandbox_app
from lti_tool.sandbox.platform import SandboxPlatform, new_platform_key
from tests.conftest import TOOL_URL
from tests.support.dynreg import Lms
from tests.support.lti import Launcher, form_fields
from tests.web.test_deep_linking import RESPOND, open_picker
from tests.web.test_dynamic_registration import install

STRANGER = "https://stranger.example.net"


def policy(app: Flask, path: str = "/no-such-page") -> dict[str, list[str]]:
    # Any page carries the policy; the probes (/healthz) leave the platforms out: they must
    # not need the database.
    csp = app.test_client().get(path).headers["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in csp.split("; ")}


def add_stranger(app: Flask, *, deployments: tuple[str, ...] = ()) -> None:
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        registry.add_platform(
            session,
            registry.PlatformSpec(
                name="stranger",
                issuer=STRANGER,
                client_id="s",
                auth_login_url=STRANGER + "/auth",
                auth_token_url=STRANGER + "/token",
                key_set_url=STRANGER + "/jwks",
                deployment_ids=deployments,
            ),
            development=True,
        )
        if deployments:
            return
        # Recorded inactive, as a launch from an unknown deployment or "approve" mode does.
        registry.set_deployment_active(session, "stranger", "d1", active=False)
    app.extensions["lti_tool"].registry_cache.clear()


def test_an_inactive_registration_may_not_frame_the_tool_nor_receive_its_forms(
    launcher: Launcher,
) -> None:
    app = launcher.app
    add_stranger(app)
    csp = policy(app)
    assert STRANGER not in csp["frame-ancestors"]
    assert STRANGER not in csp["form-action"]
    assert launcher.platform.issuer in csp["frame-ancestors"]  # the active sandbox may
    assert csp["form-action"] == ["'self'", launcher.platform.issuer]

    with app.extensions["lti_tool"].db.unit_of_work() as session:
        registry.set_deployment_active(session, "stranger", "d1")
    app.extensions["lti_tool"].registry_cache.clear()
    csp = policy(app)
    assert STRANGER in csp["frame-ancestors"] and STRANGER in csp["form-action"]


def test_form_action_is_never_a_wildcard_and_the_operator_list_only_frames(
    sqlite_tool_factory: Any,
) -> None:
    launcher = sqlite_tool_factory(frame_ancestors="https://learn.example.ac.uk")
    csp = policy(launcher.app)
    assert "*" not in csp["form-action"] and "*" not in csp["frame-ancestors"]
    assert "https://learn.example.ac.uk" in csp["frame-ancestors"]
    assert "https://learn.example.ac.uk" not in csp["form-action"]


def test_the_deep_linking_return_page_may_post_to_the_return_url_only(
    launcher: Launcher,
) -> None:
    client = launcher.app.test_client()
    return_origin = "https://return.example.org"
    picker, _ = open_picker(
        launcher,
        client,
        settings={"deep_link_return_url": return_origin + "/deep-link/return"},
    )
    assert picker.status_code == 200, picker.get_data(as_text=True)
    assert return_origin not in picker.headers["Content-Security-Policy"]
    token = form_fields(picker.get_data(as_text=True))["launch_token"]
    answer = client.post(RESPOND, data={"launch_token": token, "item": ["checklist"]})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    csp = answer.headers["Content-Security-Policy"]
    form_action = next(d for d in csp.split("; ") if d.startswith("form-action ")).split()[1:]
    assert form_action == ["'self'", launcher.platform.issuer, return_origin]
    assert return_origin not in policy(launcher.app)["form-action"]  # that page only


def test_a_verified_launch_from_a_platform_awaiting_approval_may_show_its_refusal(
    sqlite_tool_factory: Any, lms: Lms
) -> None:
    app = sqlite_tool_factory(dynamic_registration="approve").app
    assert install(app.test_client(), lms.moodle_start())[1].status_code == 200
    assert lms.moodle_host not in policy(app)["frame-ancestors"]  # not approved yet
    moodle = SandboxPlatform(
        issuer=lms.moodle_issuer,
        tool_url=TOOL_URL,
        client_id=lms.moodle.registered[0].response["client_id"],
        deployment_id="2",
    )
    lms.moodle.jwks = moodle.jwks()
    launcher = Launcher(app, moodle, create_sandbox_app(moodle))

    refused = launcher.launch(app.test_client())
    assert refused.status_code == 403, refused.get_data(as_text=True)
    assert "has not been approved yet" in refused.get_data(as_text=True)
    ancestors = refused.headers["Content-Security-Policy"].split("frame-ancestors ")[1].split()
    assert lms.moodle_host in ancestors

    # Signed by someone else: refused before the platform is known to have sent it.
    forged = launcher.launch(app.test_client(), key=new_platform_key())
    assert forged.status_code in {400, 401, 403}, forged.get_data(as_text=True)
    assert lms.moodle_host not in forged.headers["Content-Security-Policy"]
