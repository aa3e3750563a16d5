"""Deep Linking titles as a real Moodle 4.5.6 asks: when the activity name is empty, Moodle's
deep-linking settings carry the tool's own name as the suggested ``title`` (and an empty
``text``). A link named after the tool says nothing of what it opens: the picker does not
pre-fill it, and the placed item is named after itself (an assessment module's link after its
gradebook column)."""

from __future__ import annotations

import pytest

from lti_tool.lti.deeplink.settings import DeepLinkingSettings, own_title
from tests.support.lti import Launcher, form_fields
from tests.web.test_deep_linking import RESPOND, open_picker, returned, returns, to_platform

NAME = "Clinical leadership pathway"  # the tool's name by default (LTI_TOOL_TOOL_NAME)

# What Moodle 4.5.6 puts in the settings for an activity added without a name, the tool
# registered as "Clinical leadership pathway" (README, Moodle steps; Dynamic Registration's
# client_name).
MOODLE_SETTINGS = {
    "accept_presentation_document_targets": ["frame", "iframe", "window"],
    "accept_copy_advice": False,
    "accept_unsigned": False,
    "can_confirm": False,
    "title": "Clinical leadership pathway",
    "text": "",
}


@pytest.mark.parametrize(
    "suggested",
    ["Clinical leadership pathway", "clinical  LEADERSHIP pathway ", "", "   ", None],
)
def test_the_tools_own_name_or_nothing_is_no_title(suggested: str | None) -> None:
    assert own_title(suggested, NAME) is None
    claim = {"deep_link_return_url": "https://moodle.example.ac.uk/x", "title": suggested}
    assert DeepLinkingSettings.from_claim(claim, NAME).title is None


def test_a_title_of_its_own_is_kept() -> None:
    assert own_title("  Week 4: B832 submission ", NAME) == "Week 4: B832 submission"
    assert own_title("Clinical leadership pathway B832", NAME) == "Clinical leadership pathway B832"


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("B832", "B832 Leading health service delivery and improvement"),
        ("checklist", "Qualification checklist"),
    ],
)
def test_moodles_suggested_tool_name_gives_way_to_the_items_title(
    launcher: Launcher, item: str, expected: str
) -> None:
    client = launcher.app.test_client()
    response, _ = open_picker(launcher, client, accept_multiple=True, settings=MOODLE_SETTINGS)
    page = response.get_data(as_text=True)
    fields = form_fields(page)
    assert fields.get("title", "") == ""  # not pre-filled with the tool's name
    assert 'value="Clinical leadership pathway"' not in page
    # A teacher who leaves the tool's name in the field (an older picker) gets the same.
    answer = client.post(
        RESPOND,
        data={
            "launch_token": fields["launch_token"],
            "item": item,
            "title": "Clinical Leadership Pathway",
            "text": "",
        },
    )
    action, jwt_value = returned(answer.get_data(as_text=True))
    assert to_platform(launcher, action, jwt_value).status_code == 200
    [placed] = returns(launcher).placed[-1]["items"]
    assert placed["title"] == expected
    if "lineItem" in placed:
        assert placed["title"] == placed["lineItem"]["label"]
