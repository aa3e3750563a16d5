"""The sandbox's AGS 2.0 platform fake behaves as the recorded Moodle 4.5.6 and the spec say.

Tokens go straight into ``platform.access_tokens``; each endpoint is driven through the sandbox
app's Flask test client, and the ``Link`` header bytes through a real loopback server.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from lti_tool.outbound.links import next_link, parse_link_header
from lti_tool.sandbox.ags import AgsFake
from lti_tool.sandbox.ags_protocol import CONTAINER, LINEITEM, RESULTS, SCOPE, SCORE
from lti_tool.sandbox.app import create_sandbox_app
from lti_tool.sandbox.platform import PlatformKey, SandboxPlatform, new_platform_key
from tests.unit.lms.recorded import exchange

ISSUER = "http://sandbox.test"
ALL = ("lineitem", "lineitem.readonly", "result.readonly", "score")
STUDENT, STUDENT2, TEACHER = "1001", "1002", "2001"


@dataclass
class Sandbox:
    platform: SandboxPlatform
    app: Flask
    ags: AgsFake
    client: FlaskClient

    def token(self, *scopes: str, ttl: float = 3600) -> str:
        token = secrets.token_urlsafe(8)
        granted = frozenset(SCOPE + s for s in scopes)
        self.platform.access_tokens[token] = (granted, time.time() + ttl)
        return token

    def call(
        self,
        method: str,
        url: str,
        scopes: tuple[str, ...] = ALL,
        *,
        accept: str | None = None,
        ctype: str | None = None,
        body: Any = None,
        token: str | None = None,
    ) -> TestResponse:
        headers = {"Authorization": f"Bearer {token or self.token(*scopes)}"}
        if accept is not None:
            headers["Accept"] = accept
        if ctype is not None:
            headers["Content-Type"] = ctype
        data = json.dumps(body) if body is not None else None
        return self.client.open(url, method=method, headers=headers, data=data)

    def create(self, label: str = "B832 module result", **extra: Any) -> dict[str, Any]:
        body = {"label": label, "scoreMaximum": 100, **extra}
        response = self.call("POST", self.ags.lineitems_url, ctype=LINEITEM, body=body)
        assert response.status_code == 201, response.get_data(as_text=True)
        created: dict[str, Any] = response.get_json(force=True)
        return created

    def score(self, lineitem: str, **fields: Any) -> TestResponse:
        path, _, query = lineitem.partition("?")
        return self.call("POST", f"{path}/scores?{query}", ctype=SCORE, body=score_body(**fields))

    def results(self, lineitem: str, query: str = "", **kw: Any) -> TestResponse:
        path, _, type_id = lineitem.partition("?")
        return self.call("GET", f"{path}/results?{type_id}{query}", accept=RESULTS, **kw)


def score_body(**fields: Any) -> dict[str, Any]:
    body = {
        "userId": STUDENT,
        "scoreGiven": 87,
        "scoreMaximum": 100,
        "comment": "B832 from peer tool",
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def at(seconds: float) -> str:
    start = datetime(2027, 1, 10, 9, 0, 0, tzinfo=UTC)
    return (start + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


@pytest.fixture(scope="module")
def platform_key() -> PlatformKey:
    return new_platform_key()  # one RSA key for the module: generating one costs ~0.1 s


@pytest.fixture
def sandbox(platform_key: PlatformKey) -> Sandbox:
    platform = SandboxPlatform(issuer=ISSUER, tool_url="http://tool.test", keys=[platform_key])
    app = create_sandbox_app(platform)
    app.config["TESTING"] = True
    return Sandbox(platform, app, app.extensions["ags"], app.test_client())


@pytest.fixture
def live(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The same sandbox on a loopback port; its issuer becomes the server's address."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, sandbox.app, threaded=True)
    sandbox.platform.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield sandbox
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def refused(response: TestResponse, status: int, reason: str) -> None:
    assert response.status_code == status
    assert response.get_json(force=True) == {"status": status, "reason": reason}
    assert "WWW-Authenticate" not in response.headers


# --- line item container ----------------------------------------------------------------------


def test_the_sandbox_app_serves_ags_where_the_launch_says(sandbox: Sandbox) -> None:
    claims = sandbox.platform.launch_claims("student1", "n")
    ags = claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
    assert ags["lineitems"] == sandbox.ags.lineitems_url
    response = sandbox.call("GET", ags["lineitems"], accept=CONTAINER)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTAINER + "; charset=utf-8"
    assert "Link" not in response.headers
    # PHP's json_encode: compact, slashes escaped, like the recording.
    assert response.get_data(as_text=True).startswith('[{"id":"http:\\/\\/sandbox.test\\/api')
    assert response.get_json(force=True) == [
        {
            "id": f"{ISSUER}/api/ags/pgcert-cl-2027/lineitems/1/lineitem?type_id=1",
            "label": "Clinical leadership pathway",
            "scoreMaximum": 100,
            "resourceId": "",
            "tag": "",
            "resourceLinkId": "link-checklist",
            "ltiLinkId": "link-checklist",
        }
    ]
    recorded = exchange("ags-lineitems-get-1.json")["body_json"][0]
    assert list(response.get_json(force=True)[0]) == list(recorded)


@pytest.mark.parametrize(
    ("scopes", "status"),
    [(("lineitem",), 200), (("lineitem.readonly",), 200), (("score", "result.readonly"), 401)],
)
def test_listing_needs_a_line_item_scope(
    sandbox: Sandbox, scopes: tuple[str, ...], status: int
) -> None:
    response = sandbox.call("GET", sandbox.ags.lineitems_url, scopes, accept=CONTAINER)
    assert response.status_code == status


def test_missing_unknown_and_expired_tokens_get_moodles_401(sandbox: Sandbox) -> None:
    url = sandbox.ags.lineitems_url
    refused(sandbox.client.get(url, headers={"Accept": CONTAINER}), 401, "Unauthorized")
    refused(sandbox.call("GET", url, accept=CONTAINER, token="nope"), 401, "Unauthorized")
    expired = sandbox.token(*ALL, ttl=-1)
    refused(sandbox.call("GET", url, accept=CONTAINER, token=expired), 401, "Unauthorized")


def test_accept_must_be_the_container_type_as_on_moodle(sandbox: Sandbox) -> None:
    url = sandbox.ags.lineitems_url
    path = "/pgcert-cl-2027/lineitems"
    response = sandbox.call("GET", url, accept="application/json")
    refused(response, 400, f"No handler found for {path} application/json ")
    response = sandbox.call("GET", url, accept="*/*")
    refused(response, 400, "No context or unsupported content type")
    assert sandbox.call("GET", url).status_code == 200  # no Accept at all: Moodle serves it


def test_another_context_is_not_found(sandbox: Sandbox) -> None:
    url = sandbox.ags.lineitems_url.replace("pgcert-cl-2027", "other-course")
    response = sandbox.call("GET", url, accept=CONTAINER)
    refused(response, 404, "Not Found: Course other-course doesn't exist")


def test_filters_by_resource_id_tag_and_resource_link(sandbox: Sandbox) -> None:
    b832 = sandbox.create(resourceId="B832", tag="b832")
    sandbox.create("B833 module result", resourceId="B833", tag="module")
    url = sandbox.ags.lineitems_url

    def ids(query: str) -> list[str]:
        found = sandbox.call("GET", f"{url}?{query}", accept=CONTAINER).get_json(force=True)
        return [item["id"] for item in found]

    assert ids("resource_id=B832") == [b832["id"]]
    assert ids("tag=b832") == [b832["id"]]
    assert ids("resource_id=B832&tag=module") == []
    seeded = sandbox.ags.lineitem_url(1)
    assert ids("resource_link_id=link-checklist") == ids("lti_link_id=link-checklist") == [seeded]
    assert len(ids("")) == 3


# --- paging -------------------------------------------------------------------------------------


def test_paging_links_are_moodles_byte_for_byte(sandbox: Sandbox) -> None:
    """Seed + one created = the recorded site's two line items: the same Link headers."""
    sandbox.create(resourceId="B832", tag="b832")
    recorded_site = "http://127.0.0.1:8080/mod/lti/services.php/2/lineitems"
    for page, query in (("page1", "limit=1"), ("page2", "limit=1&from=1")):
        response = sandbox.call("GET", f"{sandbox.ags.lineitems_url}?type_id=1&{query}")
        assert response.status_code == 200
        sent = response.headers["Link"].encode("latin-1").decode("utf-8")
        recorded = exchange(f"ags-lineitems-get-limit1-{page}-raw.json")["link_header_utf8"][0]
        assert sent == recorded.replace(recorded_site, sandbox.ags.lineitems_url)
        assert len(response.get_json(force=True)) == 1


def test_paging_keeps_filters_and_ends_without_next(sandbox: Sandbox) -> None:
    for n in range(5):
        sandbox.create(f"Item {n}", tag="t")
    url: str | None = f"{sandbox.ags.lineitems_url}?tag=t&limit=2"
    labels: list[str] = []
    pages = 0
    while url:
        response = sandbox.call("GET", url, accept=CONTAINER)
        labels += [item["label"] for item in response.get_json(force=True)]
        links = parse_link_header(response.headers["Link"])
        assert links["first"].endswith("?tag=t&type_id=1&limit=2&from=0")
        url = next_link(response.headers["Link"], url)
        pages += 1
    assert pages == 3
    assert labels == [f"Item {n}" for n in range(5)]
    # Moodle's "last" is total - limit + 1, and "from" beyond the end is an empty page.
    assert links["last"].endswith("from=4")
    beyond = sandbox.call("GET", f"{sandbox.ags.lineitems_url}?tag=t&limit=2&from=9")
    assert beyond.get_json(force=True) == []
    assert next_link(beyond.headers["Link"], sandbox.ags.lineitems_url) is None


def test_link_header_is_raw_utf8_on_the_wire(live: Sandbox) -> None:
    live.create(resourceId="B832", tag="b832")
    live.create("Third", resourceId="B833")
    headers = {"Authorization": f"Bearer {live.token('lineitem.readonly')}", "Accept": CONTAINER}
    url: str | None = live.ags.lineitems_url + "?limit=1"
    seen: list[str] = []
    with requests.Session() as http:
        while url:
            response = http.get(url, headers=headers, timeout=5)
            assert response.status_code == 200
            raw = response.headers["Link"].encode("latin-1")  # http.client read it as Latin-1
            assert b"; rel=\xe2\x80\x9cfirst\xe2\x80\x9d, <" in raw
            assert b"?type_id=1&amp;limit=1&amp;from=0>" in raw
            seen += [item["label"] for item in response.json()]
            url = next_link(response.headers["Link"], url)
    assert seen == ["Clinical leadership pathway", "B832 module result", "Third"]
    assert live.ags.calls[-1].endswith("from=2")


# --- creating, reading, changing and deleting a line item --------------------------------------


def test_post_creates_a_line_item(sandbox: Sandbox) -> None:
    body = {"scoreMaximum": 100, "label": "B832 module result", "resourceId": "B832", "tag": "b832"}
    body["resourceLinkId"] = "link-checklist"
    response = sandbox.call("POST", sandbox.ags.lineitems_url, ctype=LINEITEM, body=body)
    assert response.status_code == 201
    assert response.headers["Content-Type"] == LINEITEM + "; charset=utf-8"
    created = response.get_json(force=True)
    assert created["id"] == f"{ISSUER}/api/ags/pgcert-cl-2027/lineitems/2/lineitem?type_id=1"
    assert {k: created[k] for k in body} == body
    assert [item.resource_id for item in sandbox.ags.lineitem_creates] == ["B832"]
    again = sandbox.call("GET", created["id"], accept=LINEITEM)
    assert again.status_code == 200
    assert again.get_json(force=True) == created


@pytest.mark.parametrize("scopes", [("lineitem.readonly",), ("score", "result.readonly")])
def test_post_needs_the_lineitem_scope(sandbox: Sandbox, scopes: tuple[str, ...]) -> None:
    body = {"label": "X", "scoreMaximum": 10}
    response = sandbox.call("POST", sandbox.ags.lineitems_url, scopes, ctype=LINEITEM, body=body)
    refused(response, 401, "Unauthorized")
    assert sandbox.ags.lineitem_creates == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"scoreMaximum": 10}, "No label or Score Maximum"),
        ({"label": "X"}, "No label or Score Maximum"),
        ({"label": "", "scoreMaximum": 10}, "Bad Request"),
        ({"label": "  ", "scoreMaximum": 10}, "Bad Request"),
        ({"label": "X", "scoreMaximum": 0}, "Bad Request"),
        ({"label": "X", "scoreMaximum": -5}, "Bad Request"),
        ({"label": "X", "scoreMaximum": "100"}, "Bad Request"),
        ({"label": "X", "scoreMaximum": True}, "Bad Request"),
        ({"label": "X", "scoreMaximum": 10, "endDateTime": "next week"}, "Bad Request"),
        (["not", "an", "object"], "No label or Score Maximum"),
    ],
)
def test_post_validates_the_line_item(sandbox: Sandbox, body: Any, reason: str) -> None:
    response = sandbox.call("POST", sandbox.ags.lineitems_url, ctype=LINEITEM, body=body)
    refused(response, 400, reason)


def test_post_media_types(sandbox: Sandbox) -> None:
    url, body = sandbox.ags.lineitems_url, {"label": "X", "scoreMaximum": 10}
    response = sandbox.call("POST", url, ctype="application/json", body=body)
    refused(response, 400, "No handler found for /pgcert-cl-2027/lineitems  application/json")
    response = sandbox.call("POST", url, ctype=CONTAINER, body=body)
    refused(response, 400, "No context or unsupported content type")


def test_put_replaces_and_delete_removes(sandbox: Sandbox) -> None:
    item = sandbox.create(resourceId="B832", tag="b832")
    sandbox.score(item["id"])
    change = {"label": "B832 (resit)", "scoreMaximum": 50, "resourceId": "B832-R"}
    change["endDateTime"] = "2027-06-30T23:59:00+01:00"
    refused(
        sandbox.call("PUT", item["id"], ("lineitem.readonly",), ctype=LINEITEM, body=change),
        401,
        "Unauthorized",
    )
    response = sandbox.call("PUT", item["id"], ctype=LINEITEM, body=change)
    assert response.status_code == 200
    updated = sandbox.call("GET", item["id"], accept=LINEITEM).get_json(force=True)
    assert updated == response.get_json(force=True)
    assert {k: updated[k] for k in change} == change
    assert updated["tag"] == ""  # a PUT replaces: what it leaves out is gone
    # The stored score is rescaled to the new maximum when read back.
    result = sandbox.results(item["id"]).get_json(force=True)[0]
    assert (result["resultScore"], result["resultMaximum"]) == (43.5, 50)
    bad = sandbox.call("PUT", item["id"], ctype=LINEITEM, body={"label": "X", "scoreMaximum": 0})
    refused(bad, 400, "Bad Request")

    refused(sandbox.call("DELETE", item["id"], ("lineitem.readonly",)), 401, "Unauthorized")
    assert sandbox.call("DELETE", item["id"]).status_code == 204
    item_id = item["id"].split("/")[-2]
    gone = sandbox.call("GET", item["id"], accept=LINEITEM)
    refused(gone, 404, f"Not Found: Grade item {item_id} doesn't exist")
    assert int(item_id) not in sandbox.ags.gradebook
    # The activity's own grade item cannot be deleted through AGS (Moodle answers 403).
    assert sandbox.call("DELETE", sandbox.ags.lineitem_url(1)).status_code == 403


def test_wrong_method_is_405(sandbox: Sandbox) -> None:
    refused(sandbox.call("DELETE", sandbox.ags.lineitems_url), 405, "Method Not Allowed")


# --- scores ------------------------------------------------------------------------------------


def test_score_is_stored_with_an_empty_200(sandbox: Sandbox) -> None:
    item = sandbox.create()
    response = sandbox.score(item["id"], timestamp="2027-01-10T09:00:00.788+00:00")
    assert response.status_code == 200
    assert response.get_data() == b""
    assert response.headers["Content-Type"] == SCORE + "; charset=utf-8"
    item_id = int(item["id"].split("/")[-2])
    stored = sandbox.ags.gradebook[item_id][STUDENT]
    assert (stored["scoreGiven"], stored["scoreMaximum"], stored["comment"]) == (
        87,
        100,
        "B832 from peer tool",
    )
    assert stored["timestamp"] == "2027-01-10T09:00:00.788+00:00"
    assert [p.user_id for p in sandbox.ags.accepted_scores(item_id)] == [STUDENT]
    assert sandbox.ags.score_posts[0].body["scoreGiven"] == 87


@pytest.mark.parametrize(("given", "maximum"), [(105, 100), (12.5, 10), (0, 100)])
def test_extra_credit_is_stored_as_ags_allows(
    sandbox: Sandbox, given: float, maximum: float
) -> None:
    """AGS 2.0 asks only scoreGiven >= 0 and then scoreMaximum > 0: a score above its maximum
    is extra credit, which Moodle keeps."""
    item = sandbox.create()
    response = sandbox.score(item["id"], scoreGiven=given, scoreMaximum=maximum)
    assert response.status_code == 200, response.status
    stored = sandbox.ags.gradebook[int(item["id"].split("/")[-2])][STUDENT]
    assert (stored["scoreGiven"], stored["scoreMaximum"]) == (given, maximum)


def test_naive_score_url_gets_moodles_400(sandbox: Sandbox) -> None:
    item = sandbox.create()
    response = sandbox.call("POST", item["id"] + "/scores", ctype=SCORE, body=score_body())
    path = item["id"].split("/api/ags")[1].split("?")[0]
    refused(response, 400, f"No handler found for {path}  {SCORE}")
    recorded = exchange("ags-score-post-naive-url.json")["body_json"]["reason"]
    assert recorded == f"No handler found for /2/lineitems/42/lineitem  {SCORE}"
    assert sandbox.ags.gradebook == {}


@pytest.mark.parametrize(
    ("scopes", "ctype", "status"),
    [(("lineitem", "result.readonly"), SCORE, 401), (ALL, "application/json", 400)],
)
def test_score_needs_its_scope_and_media_type(
    sandbox: Sandbox, scopes: tuple[str, ...], ctype: str, status: int
) -> None:
    item = sandbox.create()
    path, _, query = item["id"].partition("?")
    url = f"{path}/scores?{query}"
    response = sandbox.call("POST", url, scopes, ctype=ctype, body=score_body())
    assert response.status_code == status
    assert sandbox.ags.gradebook == {}


@pytest.mark.parametrize(
    "fields",
    [
        {"userId": "9999"},  # not in the course
        {"userId": TEACHER},  # in the course, not gradable
        {"userId": None},
        {"timestamp": None},
        {"timestamp": "2027-01-10T09:00:00"},  # no time zone
        {"timestamp": "10/01/2027"},
        {"activityProgress": "Done"},
        {"activityProgress": None},
        {"gradingProgress": "Graded"},
        {"scoreGiven": -1},
        {"scoreGiven": "87"},
        {"scoreMaximum": None},
        {"scoreGiven": None, "scoreMaximum": 0},
        {"scoreGiven": 0, "scoreMaximum": 0},
        {"comment": 5},
    ],
)
def test_incorrect_scores_are_refused(sandbox: Sandbox, fields: dict[str, Any]) -> None:
    item = sandbox.create()
    response = sandbox.score(item["id"], **fields)
    # As Moodle: the words and the score received in the reason phrase, the body "[]".
    assert response.status_code == 400 and response.get_data() == b"[]"
    phrase = response.status.split(" ", 1)[1]
    assert phrase.startswith("Incorrect score received{")
    received = json.loads(phrase.removeprefix("Incorrect score received"))
    sent = score_body(**fields)
    assert received.keys() == sent.keys() and received.get("userId") == sent.get("userId")
    assert sandbox.ags.gradebook == {}
    assert [p.status for p in sandbox.ags.score_posts] == [400]


def test_a_score_not_newer_than_the_stored_one_is_a_409(sandbox: Sandbox) -> None:
    item = sandbox.create()
    item_id = item["id"].split("/")[-2]
    assert sandbox.score(item["id"], timestamp=at(10)).status_code == 200
    reason = f"Refusing score with an earlier timestamp for item {item_id} and user {STUDENT}"
    refused(sandbox.score(item["id"], timestamp=at(10), scoreGiven=90), 409, reason)
    refused(sandbox.score(item["id"], timestamp=at(5), scoreGiven=90), 409, reason)
    # Moodle keeps whole seconds: later within the same second is "not newer" too.
    refused(sandbox.score(item["id"], timestamp=at(10.5), scoreGiven=90), 409, reason)
    assert sandbox.score(item["id"], timestamp=at(11), scoreGiven=90).status_code == 200
    # Other users and other line items have their own clocks.
    assert sandbox.score(item["id"], timestamp=at(1), userId=STUDENT2).status_code == 200
    assert sandbox.ags.gradebook[int(item_id)][STUDENT]["scoreGiven"] == 90
    assert len(sandbox.ags.accepted_scores(user_id=STUDENT)) == 2
    assert len(sandbox.ags.score_posts) == 6


def test_a_score_that_is_not_fully_graded_clears_the_grade(sandbox: Sandbox) -> None:
    item = sandbox.create()
    sandbox.score(item["id"], timestamp=at(0))
    pending = sandbox.score(item["id"], timestamp=at(1), gradingProgress="Pending")
    assert pending.status_code == 200
    result = sandbox.results(item["id"]).get_json(force=True)[0]
    assert set(result) == {"id", "userId"}


def test_scores_for_an_unknown_line_item_are_not_found(sandbox: Sandbox) -> None:
    url = sandbox.ags.lineitem_url(99)
    refused(sandbox.score(url), 404, "Not Found: Grade item 99 doesn't exist.")


# --- results -----------------------------------------------------------------------------------


def test_results_as_moodle_shapes_them(sandbox: Sandbox) -> None:
    item = sandbox.create()
    sandbox.score(item["id"], timestamp="2027-01-10T09:00:00.788+00:00")
    sandbox.score(item["id"], userId=STUDENT2, scoreGiven=4, scoreMaximum=10, timestamp=at(0))
    response = sandbox.results(item["id"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == RESULTS + "; charset=utf-8"
    first, second = response.get_json(force=True)
    path = item["id"].split("?")[0]
    assert first == {
        "id": f"{path}/results?type_id=1&user_id={STUDENT}",
        "userId": STUDENT,
        "resultScore": 87,
        "resultMaximum": 100,
        "comment": "B832 from peer tool",
        "scoreOf": item["id"],
        "timestamp": "2027-01-10T09:00:00+00:00",
    }
    assert list(first) == list(exchange("ags-results-get.json")["body_json"][0])
    assert (second["resultScore"], second["resultMaximum"]) == (40, 100)  # rescaled
    only = sandbox.results(item["id"], f"&user_id={STUDENT2}").get_json(force=True)
    assert [r["userId"] for r in only] == [STUDENT2]


def test_results_with_limit_fail_like_moodle(sandbox: Sandbox) -> None:
    item = sandbox.create()
    assert sandbox.results(item["id"], "&limit=1").get_json(force=True) == []  # no grades yet
    sandbox.score(item["id"])
    response = sandbox.results(item["id"], "&limit=1")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Call to a member function out() on null" in response.get_data(as_text=True)
    assert exchange("ags-results-get-limit1-raw.json")["status"] == 404
    assert len(sandbox.results(item["id"]).get_json(force=True)) == 1


def test_results_need_their_scope_and_accept(sandbox: Sandbox) -> None:
    item = sandbox.create()
    refused(sandbox.results(item["id"], scopes=("lineitem", "score")), 401, "Unauthorized")
    # Moodle's unanchored routing: without the result container Accept, the line item answers.
    path, _, query = item["id"].partition("?")
    response = sandbox.call("GET", f"{path}/results?{query}", accept="*/*")
    assert response.get_json(force=True) == item


# --- controls: faults, throttling, latency, concurrency, reset --------------------------------


def test_fail_next_and_throttle_next(sandbox: Sandbox) -> None:
    url = sandbox.ags.lineitems_url
    sandbox.ags.fail_next(2)
    sandbox.ags.throttle_next(1, retry_after=2)
    sandbox.ags.fail_next(1, status=502)
    statuses = [sandbox.call("GET", url, accept=CONTAINER) for _ in range(5)]
    assert [r.status_code for r in statuses] == [503, 503, 429, 502, 200]
    assert statuses[0].headers["Content-Type"].startswith("text/html")
    assert statuses[2].headers["Retry-After"] == "2"
    assert "Retry-After" not in statuses[0].headers
    assert len(sandbox.ags.calls) == 5
    # A faulted score POST never reaches the gradebook, nor the record of score POSTs.
    item = sandbox.create()
    sandbox.ags.fail_next()
    assert sandbox.score(item["id"]).status_code == 503
    assert sandbox.ags.score_posts == [] and sandbox.ags.gradebook == {}


def test_concurrent_creates_with_one_resource_id_all_succeed(live: Sandbox) -> None:
    """The fake does not deduplicate: a tool without its own lock makes duplicates here."""
    live.ags.latency = 0.2
    headers = {
        "Authorization": f"Bearer {live.token('lineitem')}",
        "Content-Type": LINEITEM,
    }
    body = json.dumps({"label": "B832", "scoreMaximum": 100, "resourceId": "B832"})

    def create(_: int) -> int:
        return requests.post(
            live.ags.lineitems_url, data=body, headers=headers, timeout=5
        ).status_code

    with ThreadPoolExecutor(max_workers=5) as pool:
        assert list(pool.map(create, range(5))) == [201] * 5
    assert len(live.ags.lineitem_creates) == 5
    assert len({item.id for item in live.ags.lineitem_creates}) == 5
    assert live.ags.max_in_flight > 1


def test_concurrent_scores_are_all_kept(live: Sandbox) -> None:
    items = [live.create(f"Item {n}")["id"] for n in range(4)]
    headers = {"Authorization": f"Bearer {live.token('score')}", "Content-Type": SCORE}
    users = [STUDENT, STUDENT2, "1003"]

    def post(job: tuple[str, str]) -> int:
        item, user = job
        path, _, query = item.partition("?")
        body = json.dumps(score_body(userId=user, timestamp=at(0)))
        url = f"{path}/scores?{query}"
        return requests.post(url, data=body, headers=headers, timeout=5).status_code

    jobs = [(item, user) for item in items for user in users]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(post, jobs)) == {200}
    assert sum(len(column) for column in live.ags.gradebook.values()) == 12
    assert len(live.ags.accepted_scores()) == 12


def test_reset_restores_the_seeded_gradebook(sandbox: Sandbox) -> None:
    item = sandbox.create()
    sandbox.score(item["id"])
    sandbox.ags.fail_next(3)
    sandbox.ags.reset()
    assert sandbox.ags.gradebook == {}
    assert sandbox.ags.calls == [] and sandbox.ags.score_posts == []
    assert sandbox.ags.lineitem_creates == []
    listed = sandbox.call("GET", sandbox.ags.lineitems_url, accept=CONTAINER)
    assert [i["label"] for i in listed.get_json(force=True)] == ["Clinical leadership pathway"]


# --- the gradebook page ------------------------------------------------------------------------


def test_gradebook_page_is_an_accessible_table(sandbox: Sandbox) -> None:
    empty = sandbox.client.get("/gradebook").get_data(as_text=True)
    assert "No grade" in empty
    item = sandbox.create()
    sandbox.score(item["id"], timestamp="2027-01-10T09:00:00.788+00:00", comment="<b>well</b>")
    sandbox.score(item["id"], userId=STUDENT2, gradingProgress="Pending", timestamp=at(0))
    page = sandbox.client.get("/gradebook")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<caption>Grades in Postgraduate Certificate in Clinical Leadership" in html
    assert '<th scope="col">Student</th>' in html
    assert '<th scope="col" id="item-2">B832 module result' in html
    assert '<th scope="row">Sam Student</th>' in html
    assert "87 / 100" in html
    assert '<time datetime="2027-01-10T09:00:00.788+00:00">' in html
    assert "Pending" in html
    assert "&lt;b&gt;well&lt;/b&gt;" in html
    assert "Tess Teacher" not in html  # instructors are not graded
