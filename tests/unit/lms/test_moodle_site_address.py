"""A Moodle site's web-service endpoint from its address or the endpoint itself; other pages
of the site refused."""

from __future__ import annotations

import pytest

from lti_tool.lms.moodle.site_address import (
    NotAMoodleAddress,
    moodle_rest_endpoint,
    moodle_site_root,
)

ENDPOINT = "https://moodle.example.ac.uk/webservice/rest/server.php"
SUB_PATH_ENDPOINT = "https://example.ac.uk/moodle/webservice/rest/server.php"


@pytest.mark.parametrize(
    ("given", "endpoint"),
    [
        ("https://moodle.example.ac.uk", ENDPOINT),
        ("https://moodle.example.ac.uk/", ENDPOINT),
        ("  https://moodle.example.ac.uk/  ", ENDPOINT),
        (ENDPOINT, ENDPOINT),
        (ENDPOINT + "/", ENDPOINT),
        ("https://example.ac.uk/moodle/", SUB_PATH_ENDPOINT),
        ("https://example.ac.uk/moodle", SUB_PATH_ENDPOINT),
        (SUB_PATH_ENDPOINT, SUB_PATH_ENDPOINT),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/webservice/rest/server.php"),
    ],
)
def test_the_site_address_or_the_endpoint_give_the_endpoint(given: str, endpoint: str) -> None:
    assert moodle_rest_endpoint(given) == endpoint


@pytest.mark.parametrize(
    "given",
    [
        "https://moodle.example.ac.uk/login/index.php",
        "https://example.ac.uk/moodle/login/index.php",
        "https://moodle.example.ac.uk/my/",
        "https://moodle.example.ac.uk/course/view.php?id=2",
        "https://moodle.example.ac.uk/webservice/rest/",
        "https://moodle.example.ac.uk/mod/lti/services.php",
        "https://moodle.example.ac.uk/?redirect=0",
    ],
)
def test_another_page_of_the_site_is_refused_in_words(given: str) -> None:
    with pytest.raises(NotAMoodleAddress) as refused:
        moodle_rest_endpoint(given)
    assert "address" in str(refused.value)


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("https://moodle.example.ac.uk/", "https://moodle.example.ac.uk"),
        (ENDPOINT, "https://moodle.example.ac.uk"),
        ("https://example.ac.uk/moodle/", "https://example.ac.uk/moodle"),
        (SUB_PATH_ENDPOINT, "https://example.ac.uk/moodle"),
    ],
)
def test_the_site_root_is_moodles_wwwroot_the_lti_issuer(given: str, root: str) -> None:
    assert moodle_site_root(given) == root
