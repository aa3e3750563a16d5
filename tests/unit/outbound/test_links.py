"""The Link-header parser, table by table, and against Moodle's recorded AGS and NRPS headers."""

from __future__ import annotations

import pytest

from lti_tool.outbound.links import next_link, parse_link_header
from tests.unit.lms.recorded import header

BASE = "https://lms.example/api/items"

CASES = [
    ("ascii quotes", f'<{BASE}?page=2>; rel="next"', f"{BASE}?page=2"),
    ("typographic quotes", f"<{BASE}?page=2>; rel=\u201cnext\u201d", f"{BASE}?page=2"),
    (
        "typographic quotes read as Latin-1 by http.client",
        f"<{BASE}?page=2>; rel=\u201cnext\u201d".encode().decode("latin-1"),
        f"{BASE}?page=2",
    ),
    ("rel in capitals", f'<{BASE}?page=2>; REL="NEXT"', f"{BASE}?page=2"),
    (
        "the URL keeps its case",
        '<https://LMS.example/API/Items?Cursor=AbC>; rel="Next"',
        "https://LMS.example/API/Items?Cursor=AbC",
    ),
    (
        "&amp; unescaped",
        f'<{BASE}?type_id=1&amp;limit=1&amp;from=1>; rel="next"',
        f"{BASE}?type_id=1&limit=1&from=1",
    ),
    ("only &amp; is unescaped", f'<{BASE}?a=1&copy=2>; rel="next"', f"{BASE}?a=1&copy=2"),
    ("several rels in one", f'<{BASE}?page=3>; rel="next last"', f"{BASE}?page=3"),
    ("unquoted rel", f"<{BASE}?page=2>; rel=next", f"{BASE}?page=2"),
    ("other params first", f'<{BASE}?page=2>; title="more"; rel="next"', f"{BASE}?page=2"),
    (
        "Canvas: commas without spaces, next among others",
        f'<{BASE}?page=1>; rel="current",<{BASE}?page=2>; rel="next",'
        f'<{BASE}?page=1>; rel="first",<{BASE}?page=3>; rel="last"',
        f"{BASE}?page=2",
    ),
    (
        "the first next wins",
        f'<{BASE}?page=2>; rel="next", <{BASE}?page=9>; rel="next"',
        f"{BASE}?page=2",
    ),
    ("no next: last page", f'<{BASE}?page=1>; rel="first", <{BASE}?page=3>; rel="last"', None),
    ("relation only similar", f'<{BASE}?page=2>; rel="nextpage"', None),
    ("empty header", "", None),
    ("no header", None, None),
    ("garbage", "not a link header", None),
]


@pytest.mark.parametrize(("label", "value", "expected"), CASES, ids=[c[0] for c in CASES])
def test_next_link(label: str, value: str | None, expected: str | None) -> None:
    assert next_link(value, BASE) == expected


# RFC 8288 section 3.2: a relative target is resolved against the URL the response came from.
RELATIVE = [
    ("absolute path", '</api/items?page=2>; rel="next"', "https://lms.example/api/items?page=2"),
    ("relative path", '<items?page=2>; rel="next"', "https://lms.example/api/items?page=2"),
    ("query only", '<?page=2>; rel="next"', "https://lms.example/api/items?page=2"),
    (
        "another host stays another host (the caller's host check refuses it)",
        '<https://elsewhere.example/x?page=2>; rel="next"',
        "https://elsewhere.example/x?page=2",
    ),
]


@pytest.mark.parametrize(("label", "value", "expected"), RELATIVE, ids=[c[0] for c in RELATIVE])
def test_relative_next_link_is_resolved(label: str, value: str, expected: str) -> None:
    assert next_link(value, f"{BASE}?page=1") == expected


def test_every_rel_is_reported_lower_cased() -> None:
    value = f'<{BASE}?p=1>; rel="First", <{BASE}?p=2>; rel="PREV canonical"'

    assert parse_link_header(value) == {
        "first": f"{BASE}?p=1",
        "prev": f"{BASE}?p=2",
        "canonical": f"{BASE}?p=2",
    }


def test_moodle_ags_header_as_received() -> None:
    """The raw bytes Moodle 4.5.6 sent (typographic quotes, &amp;), decoded as requests does."""
    value = header("ags-lineitems-get-limit1-page1-raw.json", "Link")

    links = parse_link_header(value)

    assert links["next"] == (
        "http://127.0.0.1:8080/mod/lti/services.php/2/lineitems?type_id=1&limit=1&from=1"
    )
    assert links["last"].endswith("from=2")
    assert set(links) == {"first", "canonical", "next", "last"}


def test_moodle_ags_last_page_has_no_next() -> None:
    value = header("ags-lineitems-get-limit1-page2-raw.json", "Link")

    assert next_link(value, BASE) is None
    assert parse_link_header(value)["prev"].endswith("from=0")


def test_moodle_nrps_pages() -> None:
    first = header("nrps-get-limit2-page1.json", "Link")

    assert next_link(first, BASE) == (
        "http://127.0.0.1:8080/mod/lti/services.php/CourseSection/2/bindings/1/memberships"
        "?limit=2&from=2"
    )
    assert next_link(header("nrps-get-limit2-page2.json", "Link"), BASE) is None
