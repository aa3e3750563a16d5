"""A Moodle web service is the platform's own site when the ``siteurl`` Moodle answers (its
wwwroot, recorded from Moodle 4.5.6) is the registration's issuer; the check is made once per
source object and remembered by the process for a while, so reads do not each ask again."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from lti_tool.lms.moodle import parsing as parse
from lti_tool.lms.moodle.own_site import OwnSiteSource, SiteChecks, check_key
from lti_tool.lms.moodle.site_identity import ForeignMoodleSite, foreign_site, same_site
from lti_tool.lms.source import (
    CourseMapping,
    FetchResult,
    LmsUser,
    SourceConfigError,
    SourceUnavailable,
)
from tests.unit.lms.recorded import body

RECORDED = parse.parse_site_info(body("ws-get_site_info.json"))  # siteurl http://127.0.0.1:8080


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://moodle.example.ac.uk", "https://moodle.example.ac.uk/"),
        ("HTTPS://Moodle.Example.AC.UK", "https://moodle.example.ac.uk"),
        ("https://moodle.example.ac.uk:443", "https://moodle.example.ac.uk"),
        ("http://moodle.example.ac.uk:80/", "http://moodle.example.ac.uk"),
        ("https://example.ac.uk/moodle", "https://example.ac.uk/moodle/"),
    ],
)
def test_the_same_site_written_another_way(one: str, other: str) -> None:
    assert same_site(one, other) and same_site(other, one)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://other.example", "https://moodle.example"),
        ("https://example.ac.uk/moodle", "https://example.ac.uk"),  # the path is kept
        ("https://example.ac.uk/moodle", "https://example.ac.uk/moodle2"),
        ("http://moodle.example", "https://moodle.example"),
        ("https://moodle.example:8443", "https://moodle.example"),
        ("", "https://moodle.example"),
        ("https://moodle.example?x=1", "https://moodle.example"),
        ("https://evil.example\\@moodle.example", "https://moodle.example"),
    ],
)
def test_other_sites(one: str, other: str) -> None:
    assert not same_site(one, other) and not same_site(other, one)


def test_the_recorded_site_is_its_own_issuer_and_no_other() -> None:
    assert foreign_site(RECORDED, "http://127.0.0.1:8080") is None
    assert foreign_site(RECORDED, "http://127.0.0.1:8080/") is None
    problem = foreign_site(RECORDED, "https://moodle.example")
    assert isinstance(problem, ForeignMoodleSite) and isinstance(problem, SourceConfigError)
    assert problem.message == (
        "This Moodle web service belongs to http://127.0.0.1:8080, but this platform is "
        "https://moodle.example. Use the web service of the platform's own Moodle site."
    )


def test_a_site_info_without_a_usable_address_is_not_the_platforms() -> None:
    for site in ("", "javascript:alert(1)", "https://moodle.example\x1b[2J"):
        info = parse.SiteInfo("Moodle", site, 2, "4.5.6", frozenset())
        problem = foreign_site(info, "https://moodle.example")
        assert problem is not None and "does not give a usable address" in problem.message
        assert "\x1b" not in problem.message and "javascript" not in problem.message


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_verified_site_is_remembered_for_a_while() -> None:
    clock, asked = Clock(), []
    checks = SiteChecks(verified_seconds=600, refused_seconds=60, clock=clock)
    for _ in range(3):
        checks.confirm("k", lambda: asked.append(1))
    assert len(asked) == 1
    clock.now += 601
    checks.confirm("k", lambda: asked.append(1))
    assert len(asked) == 2


def test_another_site_is_refused_from_memory_then_asked_again() -> None:
    clock, asked = Clock(), []

    def foreign() -> None:
        asked.append(1)
        raise ForeignMoodleSite("another site", site="https://b", platform="https://a")

    checks = SiteChecks(verified_seconds=600, refused_seconds=60, clock=clock)
    for _ in range(3):
        with pytest.raises(ForeignMoodleSite, match="another site"):
            checks.confirm("k", foreign)
    assert len(asked) == 1
    clock.now += 61
    checks.confirm("k", lambda: asked.append(2))  # the site was put right
    assert asked == [1, 2]


def test_a_check_that_could_not_be_made_is_not_remembered() -> None:
    checks, asked = SiteChecks(), []

    def down() -> None:
        asked.append(1)
        raise SourceUnavailable("Moodle did not answer")

    for _ in range(2):
        with pytest.raises(SourceUnavailable):
            checks.confirm("k", down)
    assert len(asked) == 2


def test_the_key_is_the_service_its_token_and_the_platform() -> None:
    key = check_key("https://m.example/webservice/rest/server.php", "t0ken", "https://m.example")
    assert "t0ken" not in key
    assert key != check_key(
        "https://m.example/webservice/rest/server.php", "other", "https://m.example"
    )
    assert key != check_key(
        "https://m.example/webservice/rest/server.php", "t0ken", "https://n.example"
    )


class Recording:
    def __init__(self) -> None:
        self.reads = 0

    def fetch(self, user: LmsUser, mapping: Sequence[CourseMapping]) -> FetchResult:
        self.reads += 1
        return FetchResult()


def test_a_source_of_another_site_reads_nothing_and_is_asked_once_per_object() -> None:
    inner, asked = Recording(), []
    barrier = threading.Barrier(8)

    def confirm() -> None:
        asked.append(1)
        raise ForeignMoodleSite("belongs to https://b", site="https://b", platform="https://a")

    source = OwnSiteSource(inner, confirm)
    failures: list[BaseException] = []

    def read() -> None:
        barrier.wait()
        try:
            source.fetch(LmsUser("2"), [CourseMapping("GB080", "3")])
        except ForeignMoodleSite as exc:
            failures.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(failures) == 8 and len(asked) == 1 and inner.reads == 0
    assert len({id(f) for f in failures}) == 8  # each read its own exception


def test_a_source_of_the_platforms_own_site_reads() -> None:
    inner = Recording()
    source = OwnSiteSource(inner, lambda: None)
    source.fetch(LmsUser("2"), [])
    source.fetch(LmsUser("3"), [])
    assert inner.reads == 2


def test_reads_that_need_the_same_check_at_once_wait_for_one() -> None:
    checks, asked = SiteChecks(), []
    started, barrier = threading.Event(), threading.Barrier(6)

    def slow() -> None:
        asked.append(1)
        started.set()
        time.sleep(0.2)

    def read() -> None:
        barrier.wait()
        checks.confirm("k", slow)

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert started.is_set() and len(asked) == 1
