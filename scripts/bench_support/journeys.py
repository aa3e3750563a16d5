"""The browser journey the benchmark times (OIDC login + launch), load levels, statistics,
and the two security probes (replayed launch, forged id_token)."""

from __future__ import annotations

import html
import re
import resource
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import requests

from lti_tool.sandbox.platform import PlatformKey, SandboxPlatform, new_platform_key

USERS = ("student1", "student2", "student3", "teacher1", "admin")
SUCCESS_MARKER = b'<meta name="lti-launch-token" content="'
# A cookie-bound launch of our tool answers 303 (post/redirect/get); the page it lands on names
# the launch with this tag instead of carrying the token.
BINDING_MARKER = b'<meta name="lti-binding" content="'
TIMEOUT = 30.0
_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


class JourneyError(Exception):
    """A step before the launch POST went wrong; ``kind`` names it for the error count."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class Target:
    """A tool under test and the sandbox platform registered with it."""

    name: str
    platform: SandboxPlatform

    @property
    def login_url(self) -> str:
        return str(self.platform.login_url)

    @property
    def launch_url(self) -> str:
        return str(self.platform.launch_url)


def sign(platform: SandboxPlatform, claims: dict[str, Any], key: PlatformKey | None = None) -> str:
    """What ``SandboxPlatform.sign`` produces, signing with the key object instead of its PEM
    (re-parsing the PEM costs ~60 ms of client CPU per token)."""
    key = key or platform.signing_key
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


def past_cookie_check(http: requests.Session, response: requests.Response) -> requests.Response:
    """The tool first answers a login with a cookie check (a 303 to ``/lti/login/continue``
    setting a test cookie); a browser that keeps cookies follows it to the platform redirect.
    The reference tool answers 302 at once."""
    location = response.headers.get("Location", "")
    if response.status_code != 303 or "/lti/login/continue" not in location:
        return response
    return http.get(urljoin(response.url, location), allow_redirects=False, timeout=TIMEOUT)


def login(http: requests.Session, target: Target, user: str, via_auth: bool) -> tuple[str, str]:
    """POST the platform's login initiation to the tool, then obtain the platform's answer:
    through the sandbox /auth endpoint (``via_auth``) or signed in-process from the nonce and
    state of the redirect. Returns (state, id_token)."""
    platform = target.platform
    response = past_cookie_check(
        http,
        http.post(
            target.login_url,
            data=platform.login_params(user),
            allow_redirects=False,
            timeout=TIMEOUT,
        ),
    )
    if response.status_code != 302:
        raise JourneyError(f"login {response.status_code}")
    location = response.headers.get("Location", "")
    if via_auth:
        auth = http.get(location, timeout=TIMEOUT)
        if auth.status_code != 200:
            raise JourneyError(f"auth {auth.status_code}")
        fields = {k: html.unescape(v) for k, v in _FIELD.findall(auth.text)}
        return fields["state"], fields["id_token"]
    query = parse_qs(urlsplit(location).query)
    try:
        nonce, state = query["nonce"][0], query["state"][0]
    except (KeyError, IndexError) as exc:
        raise JourneyError("login redirect without state/nonce") from exc
    return state, sign(platform, platform.launch_claims(user, nonce))


def post_launch(
    http: requests.Session, target: Target, state: str, id_token: str
) -> requests.Response:
    return http.post(
        target.launch_url,
        data={"id_token": id_token, "state": state},
        allow_redirects=False,
        timeout=TIMEOUT,
    )


def land(http: requests.Session, response: requests.Response) -> requests.Response:
    """Post/redirect/get: a launch answered with a 303 is only done when the page it
    redirects to has come back (the browser's GET with the launch cookie). Any other answer
    is returned as it is."""
    if response.status_code != 303:
        return response
    location = response.headers.get("Location", "")
    return http.get(urljoin(response.url, location), allow_redirects=False, timeout=TIMEOUT)


def landed(response: requests.Response) -> bool:
    """A launch page: 200 with the launch token (rendered by the POST) or the launch's
    binding (the GET a 303 led to)."""
    return response.status_code == 200 and (
        SUCCESS_MARKER in response.content or BINDING_MARKER in response.content
    )


@dataclass(frozen=True)
class Outcome:
    ok: bool
    seconds: float
    error: str = ""


# What a browser kept from an earlier launch: the cookies in its jar, per user.
KeptCookies = dict[str, requests.cookies.RequestsCookieJar]


def launch_once(
    target: Target, user: str, via_auth: bool, kept: KeptCookies | None = None
) -> Outcome:
    """One browser: login, platform answer, launch, and the GET of the page a 303 leads to.
    Timed end to end. The jar is fresh (a first launch in this browser) unless ``kept`` holds
    what the user's browser kept from an earlier launch (a returning browser: for our tool the
    cookie check's cookie, so the login skips that round trip, and the earlier session)."""
    start = time.perf_counter()
    try:
        with requests.Session() as http:
            if kept is not None and user in kept:
                http.cookies.update(kept[user].copy())
            state, id_token = login(http, target, user, via_auth)
            response = land(http, post_launch(http, target, state, id_token))
    except JourneyError as exc:
        return Outcome(False, time.perf_counter() - start, exc.kind)
    except requests.RequestException as exc:
        return Outcome(False, time.perf_counter() - start, type(exc).__name__)
    seconds = time.perf_counter() - start
    if response.status_code != 200:
        return Outcome(False, seconds, f"launch {response.status_code}")
    if not landed(response):
        return Outcome(False, seconds, "launch page without token or binding")
    return Outcome(True, seconds)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (``sorted_values`` must be sorted)."""
    if not sorted_values:
        return float("nan")
    position = (len(sorted_values) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


@dataclass
class LevelResult:
    tool: str
    concurrency: int
    launches: int
    wall_seconds: float
    client_cpu_seconds: float
    server_cpu_seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)  # successful journeys, sorted
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def per_second(self) -> float:
        return self.ok / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def p(self, fraction: float) -> float:
        return percentile(self.latencies_ms, fraction)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_level(
    target: Target,
    concurrency: int,
    launches: int,
    via_auth: bool,
    server_cpu: Callable[[], float] = lambda: 0.0,
    kept: KeptCookies | None = None,
) -> LevelResult:
    """``launches`` journeys, ``concurrency`` at a time, users taken in turn; ``server_cpu``
    reads the CPU seconds the server has used so far; ``kept``: returning browsers."""

    def one(index: int) -> Outcome:
        return launch_once(target, USERS[index % len(USERS)], via_auth, kept)

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="launch") as pool:
        # Start the threads before the clock does.
        list(pool.map(lambda _: None, range(concurrency)))
        cpu_before = _cpu_seconds()
        server_before = server_cpu()
        start = time.perf_counter()
        outcomes = list(pool.map(one, range(launches)))
        wall = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu_before
        server = server_cpu() - server_before
    name = target.name if kept is None else f"{target.name}, back"
    result = LevelResult(name, concurrency, launches, wall, cpu, server)
    result.latencies_ms = sorted(o.seconds * 1000.0 for o in outcomes if o.ok)
    result.errors = Counter(o.error for o in outcomes if not o.ok)
    return result


def warm_up(target: Target, launches: int) -> list[str]:
    """A few uncounted launches (the first through the sandbox /auth endpoint);
    returns the errors seen."""
    errors: list[str] = []
    first = launch_once(target, USERS[0], via_auth=True)
    if not first.ok:
        errors.append(f"via /auth: {first.error}")
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = pool.map(
            lambda i: launch_once(target, USERS[i % len(USERS)], via_auth=False), range(launches)
        )
        errors.extend(o.error for o in outcomes if not o.ok)
    return errors


def kept_cookies(target: Target) -> KeptCookies:
    """Each user's browser after one launch: the cookies its jar kept (a returning browser)."""
    kept: KeptCookies = {}
    for user in USERS:
        with requests.Session() as http:
            state, id_token = login(http, target, user, via_auth=False)
            response = land(http, post_launch(http, target, state, id_token))
            if not landed(response):
                raise JourneyError(f"returning browser's first launch {response.status_code}")
            kept[user] = http.cookies.copy()
    return kept


# -- security probes ------------------------------------------------------------------------


def replay_probe(target: Target) -> tuple[int, int]:
    """A valid launch, then the very same POST again (same state, id_token and cookies).
    Returns (status of the first launch's page, after a 303 to it, replay status)."""
    with requests.Session() as http:
        state, id_token = login(http, target, "student1", via_auth=False)
        first = land(http, post_launch(http, target, state, id_token))
        again = post_launch(http, target, state, id_token)
    return first.status_code, again.status_code


def forged_probe(target: Target) -> int:
    """A launch whose id_token is signed by a stranger's key that claims the platform's kid.
    Returns the launch status."""
    platform = target.platform
    stranger = PlatformKey(platform.signing_key.kid, new_platform_key().private_key)
    with requests.Session() as http:
        response = past_cookie_check(
            http,
            http.post(
                target.login_url,
                data=platform.login_params("student1"),
                allow_redirects=False,
                timeout=TIMEOUT,
            ),
        )
        if response.status_code != 302:
            raise JourneyError(f"login {response.status_code}")
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        claims = platform.launch_claims("student1", query["nonce"][0])
        forged = sign(platform, claims, key=stranger)
        return post_launch(http, target, query["state"][0], forged).status_code
