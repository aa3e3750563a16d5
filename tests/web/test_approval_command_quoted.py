"""The ``lti-tool platform activate-deployment`` command the server log names for a held
deployment is safe to paste into a shell. Its deployment id is whatever a platform said: in
``approve`` mode (production's default) a Dynamic Registration's answer from anyone's server,
or a signed launch; ``2; touch ~/pwned #`` must stay one argument."""

from __future__ import annotations

import io
import json
import shlex
from typing import Any

import pytest

from lti_tool.sandbox.dynreg_common import TOOL_CONFIGURATION
from tests.support.dynreg import Lms
from tests.support.lti import Launcher
from tests.support.tooling import captured_logs
from tests.web.test_dynamic_registration import install
from tests.web.test_new_deployments import launch_new

HOSTILE = ["2; touch ~/pwned-by-dynreg #", "$(id)", "a'b\"c", "`id` && id", "1 | sh"]


def logged_command(log: io.StringIO, message: str) -> list[str]:
    """The logged command as a shell would read it: words, with ``;``, ``(``, ``|``, ``&``
    outside quotes as tokens of their own, and a comment dropped."""
    [logged] = [e for e in map(json.loads, log.getvalue().splitlines()) if e["msg"] == message]
    lexer = shlex.shlex(logged["command"], posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_logged_approval_command_is_safe_to_paste_into_a_shell(
    sqlite_tool_factory: Any,
    lms: Lms,
    monkeypatch: pytest.MonkeyPatch,
    hostile: str,
) -> None:
    app = sqlite_tool_factory(dynamic_registration="approve").app
    original = lms.moodle.register

    def register(*args: Any, **kwargs: Any) -> tuple[int, Any]:
        status, answer = original(*args, **kwargs)
        answer[TOOL_CONFIGURATION]["deployment_id"] = hostile
        return status, answer

    monkeypatch.setattr(lms.moodle, "register", register)
    with captured_logs() as log:
        _, done = install(app.test_client(), lms.moodle_start())
    assert done.status_code == 200, done.get_data(as_text=True)
    name = f"moodle-127.0.0.1:{lms.port}"
    words = logged_command(log, "dynamic registration")
    assert words == ["lti-tool", "platform", "activate-deployment", name, hostile]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_command_logged_for_a_held_launch_is_safe_to_paste_too(
    launcher: Launcher, hostile: str
) -> None:
    with captured_logs() as log:
        refused = launch_new(launcher, hostile)
    assert refused.status_code == 403
    words = logged_command(log, "deployment not active")
    assert words == ["lti-tool", "platform", "activate-deployment", "sandbox", hostile]
