"""Web addresses from someone else's word (lti_tool/urls.py)."""

from __future__ import annotations

import pytest

from lti_tool.urls import split_web_url, web_origin

ORIGINS = [
    ("https://lms.example.ac.uk/course/view.php?id=2", "https://lms.example.ac.uk"),
    ("HTTPS://LMS.Example.AC.UK:8443/x", "https://lms.example.ac.uk:8443"),
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
    ("https://[2001:db8::1]:8443/x", "https://[2001:db8::1]:8443"),
    ("https://møøse.example/", "https://xn--mse-0naa.example"),
    ("  https://lms.example  ", "https://lms.example"),
    ("https://faß.example/", "https://xn--fa-hia.example"),  # as requests writes it
    # What urlsplit and urllib3 read as different hosts, and white space anywhere:
    ("https://user:secret@lms.example/", None),
    ("https://evil.example\\@lms.example/", None),
    ("https://evil.example\\.lms.example/", None),
    ("https://lms.example/a b", None),
    ("https://lms.exa\tmple/", None),
    ("https://[::1", None),  # an unclosed bracket: urlsplit raises
    ("https://lms.example:99999/", None),  # reading .port raises
    ("https://lms.example:0x/", None),
    ("https://lms.example:0/", None),
    ("https://lms.example; script-src *", None),  # what could ride into a header
    ("https://lms.example'/x", None),
    ("https://*.example/", None),
    ("ftp://lms.example/", None),
    ("lms.example", None),
    ("//lms.example/x", None),
    ("", None),
]


@pytest.mark.parametrize(("url", "origin"), ORIGINS, ids=[repr(u) for u, _ in ORIGINS])
def test_web_origin(url: str, origin: str | None) -> None:
    assert web_origin(url) == origin
    assert (split_web_url(url) is None) == (origin is None)
