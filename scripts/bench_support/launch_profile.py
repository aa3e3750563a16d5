"""What one launch costs the tool, counted in-process (``scripts/bench_launch.py --profile``).

The tool's app is built in this process on the same backends the benchmark serves, and a
launch is driven through Flask's test client exactly as a browser does it: the login (with
the cookie check), the launch POST, and the GET of the page its 303 leads to. For each step
it counts what does not depend on how busy the machine is: SQL statements (by kind) and
commits, from SQLAlchemy's engine events; Redis round trips (one per packed send: a pipeline
is one) and commands; and what does: template rendering time (Flask's template signals) and
the process CPU time of the request. A cProfile of the same requests names where the CPU
goes.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask, before_render_template, template_rendered
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.test import TestResponse

from bench_support.journeys import BINDING_MARKER, SUCCESS_MARKER, USERS, sign
from lti_tool.sandbox.platform import SandboxPlatform

STEPS = ("login", "launch POST", "landing GET")


@dataclass
class StepCost:
    statements: Counter[str] = field(default_factory=Counter)
    commits: int = 0
    redis_round_trips: int = 0
    redis_commands: Counter[str] = field(default_factory=Counter)
    template_seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def statement_count(self) -> int:
        return sum(self.statements.values())


@dataclass
class LaunchProfile:
    launches: int
    steps: dict[str, StepCost]
    hot_spots: str
    traces: dict[str, list[str]]  # a student's and a staff member's last launch

    def per_launch(self, step: str, value: float) -> float:
        return value / self.launches if self.launches else float("nan")


class _Meter:
    """Counts into the step being measured (``None``: not measuring)."""

    def __init__(self) -> None:
        self.step: StepCost | None = None
        self.step_name = ""
        self.trace: list[str] = []  # the statements of the launch being measured
        self._template_started: float | None = None

    # SQLAlchemy
    def statement(self, _conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if self.step is not None:
            self.step.statements[sql.lstrip().split(None, 1)[0].upper()] += 1
            self.trace.append(f"{self.step_name}: {' '.join(sql.split())[:150]}")

    def commit(self, _conn: Any) -> None:
        if self.step is not None:
            self.step.commits += 1

    # Redis
    def round_trip(self) -> None:
        if self.step is not None:
            self.step.redis_round_trips += 1

    def command(self, name: Any) -> None:
        if self.step is not None:
            self.step.redis_commands[str(name).upper()] += 1
            self.trace.append(f"{self.step_name}: redis {str(name).upper()}")

    # templates
    def template_start(self, *_args: Any, **_kw: Any) -> None:
        self._template_started = time.perf_counter()

    def template_done(self, *_args: Any, **_kw: Any) -> None:
        if self.step is not None and self._template_started is not None:
            self.step.template_seconds += time.perf_counter() - self._template_started
        self._template_started = None


@contextmanager
def _redis_counted(meter: _Meter) -> Iterator[None]:
    """Count round trips (each packed send) and commands of every redis-py client."""
    import redis.client
    import redis.connection

    connection_cls: Any = redis.connection.AbstractConnection
    send = connection_cls.send_packed_command
    execute = redis.client.Redis.execute_command
    queue = redis.client.Pipeline.pipeline_execute_command

    def counted_send(self: Any, *args: Any, **kwargs: Any) -> Any:
        meter.round_trip()
        return send(self, *args, **kwargs)

    def counted_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        meter.command(args[0] if args else "?")
        return execute(self, *args, **kwargs)  # type: ignore[no-untyped-call]

    def counted_queue(self: Any, *args: Any, **kwargs: Any) -> Any:
        meter.command(args[0] if args else "?")
        return queue(self, *args, **kwargs)

    connection_cls.send_packed_command = counted_send
    redis.client.Redis.execute_command = counted_execute  # type: ignore[method-assign]
    redis.client.Pipeline.pipeline_execute_command = counted_queue  # type: ignore[method-assign]
    try:
        yield
    finally:
        connection_cls.send_packed_command = send
        redis.client.Redis.execute_command = execute  # type: ignore[method-assign]
        redis.client.Pipeline.pipeline_execute_command = queue  # type: ignore[method-assign]


def _journey(
    client: FlaskClient,
    platform: SandboxPlatform,
    user: str,
    measure: Callable[[str, Callable[[], TestResponse]], TestResponse],
) -> None:
    """Login, launch, landing GET; each request through ``measure(step, request)``."""

    def login() -> TestResponse:
        response = client.post("/lti/login", data=platform.login_params(user))
        location = response.headers.get("Location", "")
        if response.status_code == 303 and "/lti/login/continue" in location:
            target = urlsplit(location)
            response = client.get(target.path, query_string=target.query)
        return response

    answer = measure("login", login)
    if answer.status_code != 302:
        raise RuntimeError(f"profile: login answered {answer.status_code}")
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    id_token = sign(platform, platform.launch_claims(user, query["nonce"][0]))
    state = query["state"][0]
    launched = measure(
        "launch POST",
        lambda: client.post("/lti/launch", data={"id_token": id_token, "state": state}),
    )
    page = launched
    if launched.status_code == 303:
        target = urlsplit(launched.headers["Location"])
        page = measure("landing GET", lambda: client.get(target.path, query_string=target.query))
    body = page.get_data()
    if page.status_code != 200 or (SUCCESS_MARKER not in body and BINDING_MARKER not in body):
        raise RuntimeError(f"profile: launch ended with {page.status_code}")


def profile_launches(
    app: Flask, platform: SandboxPlatform, launches: int = 20, warmup: int = 5
) -> LaunchProfile:
    """``warmup`` uncounted launches (so every user is a returning one, caches are warm),
    then ``launches`` counted ones, the users in turn."""
    services = app.extensions["lti_tool"]
    engine = services.db.engine
    meter = _Meter()
    steps = {name: StepCost() for name in STEPS}
    profiler = cProfile.Profile()
    traces: dict[str, list[str]] = {}

    def measure(step: str, call: Callable[[], TestResponse]) -> TestResponse:
        meter.step = steps[step]
        meter.step_name = step
        cpu = time.process_time()
        try:
            return call()
        finally:
            steps[step].cpu_seconds += time.process_time() - cpu
            meter.step = None

    only = os.environ.get("BENCH_PROFILE_STEP")  # e.g. "launch POST": profile that step only

    def profiled(step: str, call: Callable[[], TestResponse]) -> TestResponse:
        if only and step != only:
            return call()
        profiler.enable()
        try:
            return call()
        finally:
            profiler.disable()

    def unmeasured(_step: str, call: Callable[[], TestResponse]) -> TestResponse:
        return call()

    base_url = platform.tool_url
    for index in range(warmup):
        with app.test_client() as client:
            client.environ_base["HTTP_HOST"] = urlsplit(base_url).netloc
            _journey(client, platform, USERS[index % len(USERS)], unmeasured)

    event.listen(engine, "before_cursor_execute", meter.statement)
    event.listen(engine, "commit", meter.commit)
    before_render_template.connect(meter.template_start, app)
    template_rendered.connect(meter.template_done, app)
    try:
        with _redis_counted(meter):
            for index in range(launches):
                user = USERS[index % len(USERS)]
                meter.trace = []
                with app.test_client() as client:
                    client.environ_base["HTTP_HOST"] = urlsplit(base_url).netloc
                    _journey(client, platform, user, measure)
                traces[user] = meter.trace
    finally:
        event.remove(engine, "before_cursor_execute", meter.statement)
        event.remove(engine, "commit", meter.commit)
        before_render_template.disconnect(meter.template_start, app)
        template_rendered.disconnect(meter.template_done, app)
    # The profiler's own overhead stays out of the CPU figures: a second pass of its own.
    for index in range(launches):
        with app.test_client() as client:
            client.environ_base["HTTP_HOST"] = urlsplit(base_url).netloc
            _journey(client, platform, USERS[index % len(USERS)], profiled)

    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    if os.environ.get("BENCH_PROFILE_CUMULATIVE"):
        stats.sort_stats("cumulative").print_stats("lti_tool|jinja2|flask|jwt|sqlalchemy", 60)
        stats.print_callees("_read")
    chosen: dict[str, list[str]] = {
        who: traces[who] for who in ("student1", "teacher1") if who in traces
    }
    return LaunchProfile(launches, steps, out.getvalue(), chosen)


def print_profile(profile: LaunchProfile, hot_spots: bool = True) -> None:
    n = profile.launches
    print()
    print(f"Per launch (login + launch POST + landing GET), mean of {n} returning users' launches")
    header = (
        f"{'step':<12} {'SQL stmts':>9} {'commits':>7} {'Redis trips':>11} "
        f"{'template ms':>11} {'CPU ms':>7}  SQL by kind / Redis commands"
    )
    print(header)
    print("-" * len(header))
    total = StepCost()
    for name in STEPS:
        step = profile.steps[name]
        total.statements.update(step.statements)
        total.commits += step.commits
        total.redis_round_trips += step.redis_round_trips
        total.redis_commands.update(step.redis_commands)
        total.template_seconds += step.template_seconds
        total.cpu_seconds += step.cpu_seconds
        _row(name, step, n)
    _row("total", total, n)
    for who, trace in profile.traces.items():
        print()
        print(f"The statements and Redis commands of {who}'s last launch, in order:")
        for line in trace:
            print(f"  {line}")
    if hot_spots:
        print()
        print("cProfile of the same launches, a second pass (own time, top 25):")
        print(profile.hot_spots)


def _row(name: str, step: StepCost, n: int) -> None:
    kinds = " ".join(f"{k}:{v / n:g}" for k, v in sorted(step.statements.items()))
    commands = " ".join(f"{k}:{v / n:g}" for k, v in sorted(step.redis_commands.items()))
    print(
        f"{name:<12} {step.statement_count / n:>9.2f} {step.commits / n:>7.2f} "
        f"{step.redis_round_trips / n:>11.2f} {step.template_seconds * 1000 / n:>11.2f} "
        f"{step.cpu_seconds * 1000 / n:>7.1f}  {kinds or '-'} | {commands or '-'}"
    )
