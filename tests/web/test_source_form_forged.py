"""The completion-source page sent values its form never offers (a forged POST with a valid
CSRF token, or a stale page): each is refused in words an LMS admin reads, naming no field
nor Python value, and nothing is saved or staged."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask

from lti_tool.completion.setup import source_settings
from tests.support.lti import Launcher
from tests.web.test_admin_access import sandbox_pk, tool_admin
from tests.web.test_cli_audit import cli

# What the form sends when it is used as shown; each case changes what a forger would.
FORM = {
    "kind": "canvas",
    "endpoint_url": "https://canvas.example.ac.uk",
    "token": "api-token",
    "mode": "course",
    "ags_threshold": "",
}
# Values the form offers (the forged one is another field's).
OFFERED = ("", "moodle", "canvas", "ags", "manual")
# Field names, source and mode identifiers, Python's spellings and quoted values: none
# belongs in the words (an example address aside).
IDENTIFIERS = re.compile(
    r"\b(kind|mode|endpoint_url|ags_threshold|moodle|canvas|ags|None|True|False)\b"
    r"|'[^' ]*'|\"|_"
)


def _refusal(page: str) -> str:
    found = re.search(r'<p class="panel error" role="alert" id="source-error">(.*?)</p>', page)
    assert found, page
    return html.unescape(found.group(1))


def _saved(app: Flask) -> object:
    services = app.extensions["lti_tool"]
    with services.db.read_only() as session:
        return source_settings(session, services.secrets, sandbox_pk(app))


@pytest.mark.parametrize(
    ("forged", "said"),
    [
        ({"mode": "everything"}, "one activity (module) per CPD course"),
        ({"mode": "Course'); DROP TABLE x; --"}, "one LMS course per CPD course"),
        ({"mode": ""}, "one LMS course per CPD course"),
        ({"kind": "ldap"}, "Choose where the tool reads completion from"),
        ({"kind": ""}, "Choose where the tool reads completion from"),
        ({"kind": "blackboard"}, "Choose where the tool reads completion from"),
        ({"token": ""}, "needs the site's address and an API token"),
        ({"endpoint_url": ""}, "needs the site's address and an API token"),
        ({"endpoint_url": "ftp://canvas.example.ac.uk"}, "starting with https://"),
        ({"endpoint_url": "http://canvas.example.ac.uk"}, "starting with https://"),
        ({"endpoint_url": "https://" + "c" * 1100 + ".example"}, "too long"),
        (
            {"kind": "moodle", "endpoint_url": "https://moodle.example.ac.uk/?lang=en"},
            "without anything after a question mark",
        ),
        ({"kind": "ags", "ags_threshold": "half"}, "from 0 to 1"),
        ({"kind": "ags", "ags_threshold": "nan"}, "from 0 to 1"),
        ({"kind": "ags", "ags_threshold": "1.5"}, "from 0 to 1"),
    ],
)
def test_a_forged_value_is_refused_in_plain_words(
    launcher: Launcher, forged: dict[str, str], said: str
) -> None:
    app = launcher.app
    client = tool_admin(app)
    path = f"/admin/registrations/{sandbox_pk(app)}/source"
    form = client.get(path).get_data(as_text=True)
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    answer = client.post(path, data={"csrf_token": token, **FORM, **forged})

    assert answer.status_code == 422, answer.headers.get("Location")
    words = _refusal(answer.get_data(as_text=True))
    assert said in words
    assert not IDENTIFIERS.search(re.sub(r"https://\S+", "", words)), words
    assert words[0].isupper() and words.endswith(".")
    for value in forged.values():
        assert value in OFFERED or value not in words, words
    assert _saved(app) is None  # nothing saved, nothing to confirm


def test_the_command_line_says_the_same_words(launcher: Launcher) -> None:
    run = cli(launcher.app)
    result = run(
        "platform", "set-completion", "sandbox", "--canvas-url", "https://canvas.example.ac.uk",
        check=False,
    )  # fmt: skip
    assert result.exit_code != 0
    assert "A Canvas source needs the site's address and an API token." in result.output
    assert _saved(launcher.app) is None
