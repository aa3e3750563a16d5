"""Benchmark: full LTI 1.3 OIDC login + launch against ``lti-tool serve --workers 2``, next to a
minimal reference tool written the way pylti1p3's README / Flask example do it, and a floor: a
null tool that only verifies the id_token against the same emulator (bench_support/null_tool.py).

    .venv/bin/python scripts/bench_launch.py            # full run (PostgreSQL + Redis)
    .venv/bin/python scripts/bench_launch.py --quick    # short smoke run
    .venv/bin/python scripts/bench_launch.py --profile  # and the per-launch breakdown
    .venv/bin/python scripts/bench_launch.py --profile-only   # only the breakdown, no servers
    .venv/bin/python scripts/bench_launch.py --db sqlite --store database

Each launch is one browser (a fresh ``requests.Session``): POST the platform's login initiation
to the tool's /lti/login, take the state and nonce from the redirect to the platform's /auth,
have the sandbox platform sign the id_token, POST it with the state to /lti/launch and, when
the tool answers 303 (post/redirect/get), GET the page it leads to: both count. The
platform's answer is signed in-process by this script (the same claims and key the sandbox's
/auth endpoint uses; the warm-up goes through /auth once per tool to prove the two agree), or
through /auth for every launch with ``--via-auth``. All tools get exactly the same journey.
With 4 or more CPUs the servers and this client are pinned to separate ones (``taskset``).
Besides launches/s and latency it reports each server's CPU time per launch (from /proc):
on a shared machine that is the figure that does not depend on the load.

``--profile`` drives launches in-process (bench_support/launch_profile.py) and prints, per
step, SQL statements, commits, Redis round trips and commands, template and CPU time, the
statements of one student's and one staff member's launch in order, and a cProfile
(``BENCH_PROFILE_STEP="launch POST"`` profiles one step, ``BENCH_PROFILE_CUMULATIVE=1`` adds
cumulative times, ``BENCH_PROFILE_LAUNCHES=200`` counts more launches than the default 20).

It also shows two security differences: a replayed launch POST and a forged id_token.
This is a benchmark, not a test: it exits 0 when targets are missed, and says so.

Figures (issue 14; one full run each, PostgreSQL + Redis, gunicorn 2 workers x 8 threads, 2
shared CPUs; the first two columns under load average 6-7 from other work, the last on an idle
machine, so compare ratios and server CPU, not absolute rates):

    c=8               before (merge24)        after (merge24)         now (400d749, idle)
    ours launches/s   23.8                    38.2                    74.6
    ours/reference    0.25x (94.8/s)          0.52x (73.0/s)          0.32x (232.2/s)
    ours/floor        16% (151.9/s)           38% (101.9/s)           20% (371.3/s)
    ours p95          530 ms                  327 ms                  146 ms
    errors at c=32    0                       0                       0
    server CPU ms per launch (ours / reference / floor)
                      29.0 / 6.1 / 2.9        16.9 / 7.0 / 3.3        14.7 / 4.6 / 1.8
    per launch, in-process (login + launch POST + landing GET, returning users):
    SQL statements    11.2 (4 INSERT upserts)  7.2 (1 record read)    5.6 (student page 5)
    commits           1.0                     1.0 (read-only when unchanged)  1.0
    Redis round trips 10.6                    9.65                    8.6
    CPU ms            23.1 (launch POST 10.3) 20.8 (launch POST 6.2)  11.5-13.1 (POST ~4)

Returning browsers ("ours, back": the cookie check's cookie kept, three requests), one run on
another 2-core machine (slower: floor 198/s) at c75f728: 68.3 launches/s against 56.8 for a
first launch; 0.56x the reference (0.47x first), 34% of the floor (29%), p95 160 ms (197).

The goal (>= 2x the example, >= 80% of the floor, p95 < 60 ms) is not met. On this machine the
floor itself is only ~1.6x the example (the client, sharing the two CPUs, is the limit: 96%
client CPU at the floor), so ">= 2x the example" asks for more than the floor. Our launch is four
requests (login, cookie check, launch POST, its page) against the example's two, and its page
reads and renders the checklist; per launch the server spends ~12-15 ms CPU against the
example's ~5 and the floor's ~2, so on two CPUs it cannot reach 80% of the floor's rate.
Each run prints these bounds from its own figures (bench_support/bounds.py): on a fresh 2-core
machine at bd66cf8 the floor was 1.31x the reference (so 2x the reference is 1.53x the floor),
and the client alone spent 14.3 ms CPU per launch of ours, capping ours at 140 launches/s with
a server that took no CPU (a mean journey of at least 57 ms at c=8).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import platform as pyplatform
import secrets
import shutil
import signal
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import requests
from bench_support.bounds import bound_lines
from bench_support.journeys import (
    JourneyError,
    LevelResult,
    Target,
    forged_probe,
    kept_cookies,
    replay_probe,
    run_level,
    warm_up,
)
from bench_support.processes import ServerProcess, clean_environ, free_port, run_checked
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lti_tool.sandbox import SandboxServer, register_sandbox
from lti_tool.sandbox.platform import SandboxPlatform

SUPPORT_DIR = Path(__file__).resolve().parent / "bench_support"
PG_URL = os.environ.get("LTI_TOOL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("LTI_TOOL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WORKERS = 2

# Targets for our tool (the reference measured ~90 launches/s, p95 ~110 ms at c=8 on 2 cores).
TARGET_RATIO_C8 = 2.0
TARGET_P95_MS_C8 = 60.0
TARGET_FLOOR_SHARE_C8 = 0.8


@dataclass(frozen=True)
class Options:
    levels: tuple[int, ...]
    launches: int
    launches_serial: int
    warmup: int
    db: str
    store: str
    threads: int
    ref_worker_class: str
    ref_cache_threshold: int
    via_auth: bool
    pg_url: str
    redis_url: str
    profile: bool
    profile_only: bool
    pin: bool


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--launches", type=int, default=None, help="launches per level at c>1 (default 400)"
    )
    parser.add_argument(
        "--launches-serial", type=int, default=None, help="launches at c=1 (default 100)"
    )
    parser.add_argument("--concurrency", default="1,8,32", help="levels (default 1,8,32)")
    parser.add_argument("--quick", action="store_true", help="short smoke run (40/10 launches)")
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument(
        "--store",
        choices=("redis", "database"),
        default="redis",
        help="our tool's state/nonce/session store (default redis)",
    )
    parser.add_argument(
        "--threads", type=int, default=8, help="gthread threads per worker, both tools"
    )
    parser.add_argument(
        "--ref-worker-class",
        choices=("gthread", "sync"),
        default="gthread",
        help="gunicorn worker class of the reference tool (default gthread, like ours)",
    )
    parser.add_argument(
        "--ref-cache-threshold",
        type=int,
        default=0,
        help="Flask-Caching CACHE_THRESHOLD of the reference tool (default 0: unbounded; "
        "Flask-Caching's own default, 500, makes every write prune the directory once more "
        "than 500 entries exist)",
    )
    parser.add_argument(
        "--via-auth",
        action="store_true",
        help="get every id_token from the sandbox /auth endpoint instead of signing in-process",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after the load levels, profile launches in-process: SQL statements, commits, "
        "Redis round trips, template and CPU time per step, cProfile hot spots",
    )
    parser.add_argument(
        "--profile-only", action="store_true", help="only the in-process profile (no servers)"
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin the client and the servers to separate CPUs (taskset) even when the "
        "machine has 4 or more",
    )
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--redis-url", default=REDIS_URL)
    args = parser.parse_args(argv)
    launches = args.launches or (40 if args.quick else 400)
    serial = args.launches_serial or (10 if args.quick else min(100, launches))
    levels = tuple(int(x) for x in args.concurrency.split(",") if x.strip())
    return Options(
        levels=levels,
        launches=launches,
        launches_serial=serial,
        warmup=6 if args.quick else 20,
        db=args.db,
        store=args.store,
        threads=args.threads,
        ref_worker_class=args.ref_worker_class,
        ref_cache_threshold=args.ref_cache_threshold,
        via_auth=args.via_auth,
        pg_url=args.pg_url,
        redis_url=args.redis_url,
        profile=args.profile or args.profile_only,
        profile_only=args.profile_only,
        pin=not args.no_pin,
    )


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- backends of our tool --------------------------------------------------------------------


@contextlib.contextmanager
def database_url(options: Options, folder: Path) -> Iterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL schema dropped at the end."""
    if options.db == "sqlite":
        yield f"sqlite:///{folder / 'tool.sqlite3'}"
        return
    import sqlalchemy as sa

    from lti_tool.settings import normalise_database_url

    schema = "bench_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(normalise_database_url(options.pg_url), poolclass=sa.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{options.pg_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def redis_prefix(options: Options) -> Iterator[str]:
    """A unique key prefix; its keys are deleted at the end."""
    prefix = "bench_" + uuid.uuid4().hex[:10]
    try:
        yield prefix
    finally:
        if options.store == "redis":
            import redis

            client = redis.Redis.from_url(options.redis_url)
            keys = list(client.scan_iter(f"{prefix}:*", count=1000))
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])
            client.close()


def prepare_our_tool(
    options: Options, stack: contextlib.ExitStack, folder: Path, platform: SandboxPlatform
) -> dict[str, str]:
    """A fresh database (migrated, with a tool key) and Redis prefix with ``platform``
    registered; returns the tool's environment."""
    from lti_tool.persistence.db import Database
    from lti_tool.settings import normalise_database_url

    db_url = stack.enter_context(database_url(options, folder))
    prefix = stack.enter_context(redis_prefix(options))
    env = clean_environ(
        {
            "LTI_TOOL_ENV": "development",
            "LTI_TOOL_OUTBOUND_ALLOW_LOOPBACK": "1",  # the sandbox platform on 127.0.0.1
            "LTI_TOOL_RATE_LIMIT_LOGIN_PER_MINUTE": "1000000",  # the benchmark is one address
            "LTI_TOOL_BASE_URL": platform.tool_url,
            "LTI_TOOL_DATABASE_URL": db_url,
            "LTI_TOOL_REDIS_URL": options.redis_url if options.store == "redis" else "",
            "LTI_TOOL_REDIS_PREFIX": prefix,
            "LTI_TOOL_SANDBOX_URL": platform.issuer,
            "LTI_TOOL_SECRET_KEY": secrets.token_urlsafe(48),
            "LTI_TOOL_INSTANCE_DIR": str(folder / "instance"),
        }
    )
    cli = [sys.executable, "-m", "lti_tool.cli"]
    log("  " + run_checked([*cli, "init"], env, "lti-tool init"))
    db = Database(normalise_database_url(db_url))
    try:
        register_sandbox(db, platform, development=True)
    finally:
        db.dispose()
    return env


def start_our_tool(
    options: Options,
    stack: contextlib.ExitStack,
    folder: Path,
    platform: SandboxPlatform,
    pin: list[str],
) -> ServerProcess:
    port = int(platform.tool_url.rsplit(":", 1)[1])
    env = prepare_our_tool(options, stack, folder, platform)
    cli = [sys.executable, "-m", "lti_tool.cli"]
    server = ServerProcess(
        "lti-tool serve",
        [
            *pin,
            *cli,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(WORKERS),
            "--threads",
            str(options.threads),
        ],
        env,
        folder / "ours.log",
        f"{platform.tool_url}/healthz",
    )
    stack.callback(server.stop)  # registered after the schema/prefix: stops before they go
    return server.start()


def start_reference_tool(
    options: Options,
    stack: contextlib.ExitStack,
    folder: Path,
    platform: SandboxPlatform,
    pin: list[str],
) -> ServerProcess:
    port = int(platform.tool_url.rsplit(":", 1)[1])
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = folder / "reference-key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cache_dir = folder / "reference-cache"
    cache_dir.mkdir()
    env = clean_environ(
        {
            "REF_TOOL_ISSUER": platform.issuer,
            "REF_TOOL_CLIENT_ID": platform.client_id,
            "REF_TOOL_DEPLOYMENT_ID": platform.deployment_id,
            "REF_TOOL_AUTH_LOGIN_URL": platform.auth_url,
            "REF_TOOL_AUTH_TOKEN_URL": platform.token_url,
            "REF_TOOL_KEY_SET_URL": platform.jwks_url,
            "REF_TOOL_CACHE_DIR": str(cache_dir),
            "REF_TOOL_PRIVATE_KEY_FILE": str(key_file),
            "REF_TOOL_SECRET_KEY": secrets.token_urlsafe(32),
            "REF_TOOL_CACHE_THRESHOLD": str(options.ref_cache_threshold),
        }
    )
    argv = [
        *pin,
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--worker-class",
        options.ref_worker_class,
        "--timeout",
        "30",
        "--pythonpath",
        str(SUPPORT_DIR),
    ]
    if options.ref_worker_class == "gthread":
        argv += ["--threads", str(options.threads)]
    server = ServerProcess(
        "reference tool (gunicorn)",
        [*argv, "reference_tool:app"],
        env,
        folder / "reference.log",
        f"{platform.tool_url}/healthz",
    )
    stack.callback(server.stop)
    return server.start()


def start_null_tool(
    options: Options,
    stack: contextlib.ExitStack,
    folder: Path,
    platform: SandboxPlatform,
    pin: list[str],
) -> ServerProcess:
    """The floor: verifies the id_token and nothing else (bench_support/null_tool.py), on the
    same gunicorn set-up as ours."""
    port = int(platform.tool_url.rsplit(":", 1)[1])
    env = clean_environ(
        {
            "NULL_TOOL_ISSUER": platform.issuer,
            "NULL_TOOL_CLIENT_ID": platform.client_id,
            "NULL_TOOL_AUTH_LOGIN_URL": platform.auth_url,
            "NULL_TOOL_KEY_SET_URL": platform.jwks_url,
            "NULL_TOOL_LAUNCH_URL": platform.launch_url,
        }
    )
    argv = [
        *pin,
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "gthread",
        "--threads",
        str(options.threads),
        "--timeout",
        "30",
        "--pythonpath",
        str(SUPPORT_DIR),
    ]
    server = ServerProcess(
        "null tool (gunicorn)",
        [*argv, "null_tool:app"],
        env,
        folder / "floor.log",
        f"{platform.tool_url}/healthz",
    )
    stack.callback(server.stop)
    return server.start()


def cpu_split(options: Options) -> tuple[list[str], str]:
    """Pin the servers and this client to separate CPUs when the machine has 4 or more (a
    quarter, at least one, for the client); returns the servers' ``taskset`` prefix and a
    line saying what was done."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return [], "client shares the CPUs with the servers (no CPU affinity here)"
    if not options.pin:
        return [], "client shares the CPUs with the servers (--no-pin)"
    if len(cpus) < 4 or shutil.which("taskset") is None:
        return [], (
            f"client shares the {len(cpus)} CPUs with the servers (pinning needs 4 or more "
            "and taskset)"
        )
    client = cpus[-max(1, len(cpus) // 4) :]
    servers = [cpu for cpu in cpus if cpu not in client]
    os.sched_setaffinity(0, set(client))
    listed = ",".join(str(cpu) for cpu in servers)
    return ["taskset", "-c", listed], (
        f"servers pinned to CPUs {listed}, this client (and the platform emulators) to "
        f"{','.join(str(cpu) for cpu in client)}"
    )


def run_profile(options: Options, stack: contextlib.ExitStack, folder: Path) -> None:
    """The in-process profile of launches (bench_support/launch_profile.py) on a database and
    Redis prefix of its own, the same backends as the served tool."""
    from bench_support.launch_profile import print_profile, profile_launches

    from lti_tool import create_app
    from lti_tool.settings import load_settings

    platform = SandboxPlatform(
        issuer=f"http://127.0.0.1:{free_port()}", tool_url=f"http://127.0.0.1:{free_port()}"
    )
    stack.enter_context(
        SandboxServer(platform, "127.0.0.1", int(platform.issuer.rsplit(":", 1)[1]))
    )
    profile_folder = folder / "profile"
    profile_folder.mkdir()
    log("profiling launches in-process ...")
    env = prepare_our_tool(options, stack, profile_folder, platform)
    env["LTI_TOOL_LOG_LEVEL"] = "WARNING"
    app = create_app(load_settings(environ=env))
    stack.callback(app.extensions["lti_tool"].close)

    # The emulator checks the tool's client assertions (roster, grades) against its JWKS.
    def tool_jwks() -> dict[str, Any]:
        return dict(app.test_client().get("/.well-known/jwks.json").json or {})

    platform.tool_jwks_source = tool_jwks
    launches = int(os.environ.get("BENCH_PROFILE_LAUNCHES", "20"))
    print_profile(profile_launches(app, platform, launches=launches))


def server_times(log_path: Path) -> list[tuple[str, int, float, float]]:
    """(method and path, requests, mean ms, p95 ms) from our tool's access log lines: the
    server's own time per step, next to the journey the client timed."""
    import json

    times: dict[str, list[float]] = {}
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    for line in lines:
        if not line.startswith("{") or '"request"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("msg") == "request" and isinstance(entry.get("ms"), int | float):
            path = str(entry.get("path", ""))
            times.setdefault(f"{entry.get('method', '')} {path}", []).append(float(entry["ms"]))
    rows = []
    for name, values in sorted(times.items(), key=lambda item: -len(item[1])):
        values.sort()
        p95 = values[min(len(values) - 1, int(0.95 * (len(values) - 1) + 0.5))]
        rows.append((name, len(values), sum(values) / len(values), p95))
    return rows


# -- output ----------------------------------------------------------------------------------


def fmt_ms(value: float) -> str:
    return "-" if value != value else f"{value:.1f}"  # NaN when nothing succeeded


def error_text(result: LevelResult) -> str:
    if not result.errors:
        return "0"
    kinds = ", ".join(f"{kind} x{n}" for kind, n in result.errors.most_common(3))
    return f"{result.error_count} ({kinds})"


def print_table(results: list[LevelResult]) -> None:
    header = (
        f"{'tool':<10} {'conc':>4} {'launches':>8} {'ok':>5} {'launches/s':>10} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'client CPU':>10} "
        f"{'server CPU ms/launch':>20}  errors"
    )
    print(header)
    print("-" * len(header))
    for tool in ("ours", "reference", "floor", "ours, back"):
        for r in (r for r in results if r.tool == tool):
            cpu = f"{r.client_cpu_seconds / r.wall_seconds:.0%}" if r.wall_seconds else "-"
            print(
                f"{r.tool:<10} {r.concurrency:>4} {r.launches:>8} {r.ok:>5} "
                f"{r.per_second:>10.1f} {fmt_ms(r.p(0.50)):>8} {fmt_ms(r.p(0.95)):>8} "
                f"{fmt_ms(r.p(0.99)):>8} {cpu:>10} "
                f"{r.server_cpu_seconds * 1000 / max(1, r.launches):>20.1f}  {error_text(r)}"
            )


def print_ratios_and_targets(
    results: list[LevelResult], levels: tuple[int, ...], shared_cpus: bool
) -> None:
    by_key = {(r.tool, r.concurrency): r for r in results}
    print()
    for c in levels:
        ours, ref = by_key[("ours", c)], by_key[("reference", c)]
        ratio = ours.per_second / ref.per_second if ref.per_second else float("inf")
        marker = "   <- headline" if c == 8 else ""
        floor = by_key[("floor", c)]
        of_floor = ours.per_second / floor.per_second if floor.per_second else float("inf")
        print(
            f"at c={c:<2}: ours/reference {ratio:.2f}x, ours/floor {of_floor:.0%}  "
            f"({ours.per_second:.1f} vs {ref.per_second:.1f} vs {floor.per_second:.1f} "
            f"launches/s){marker}"
        )
        back = by_key[("ours, back", c)]
        back_ratio = back.per_second / ref.per_second if ref.per_second else float("inf")
        back_floor = back.per_second / floor.per_second if floor.per_second else float("inf")
        print(
            f"        returning browsers: ours {back.per_second:.1f} launches/s, "
            f"{back_ratio:.2f}x reference, {back_floor:.0%} of the floor, "
            f"p95 {fmt_ms(back.p(0.95))} ms"
        )
    print()
    if 8 in levels:
        ref = by_key[("reference", 8)]
        print(
            f"reference at c=8: {ref.per_second:.1f} launches/s, p95 {fmt_ms(ref.p(0.95))} ms "
            "(a pylti1p3 tool of this kind was measured at ~90/s, p95 ~110 ms on 2 cores)"
        )
    print("Targets for ours:")
    if 8 in levels:
        ours, ref = by_key[("ours", 8)], by_key[("reference", 8)]
        ratio = ours.per_second / ref.per_second if ref.per_second else float("inf")
        verdict(
            f">= {TARGET_RATIO_C8:.0f}x reference launches/s at c=8",
            f"{ratio:.2f}x",
            ratio >= TARGET_RATIO_C8,
        )
        floor = by_key[("floor", 8)]
        of_floor = ours.per_second / floor.per_second if floor.per_second else float("inf")
        verdict(
            f">= {TARGET_FLOOR_SHARE_C8:.0%} of the floor's launches/s at c=8",
            f"{of_floor:.0%}",
            of_floor >= TARGET_FLOOR_SHARE_C8,
        )
        p95 = ours.p(0.95)
        verdict(
            f"p95 < {TARGET_P95_MS_C8:.0f} ms at c=8",
            f"{fmt_ms(p95)} ms",
            p95 == p95 and p95 < TARGET_P95_MS_C8,
        )
    else:
        print("  (c=8 not measured: ratio and p95 targets not evaluated)")
    top = max(levels)
    ours_top = by_key[("ours", top)]
    verdict(f"no errors at c={top}", str(ours_top.error_count), ours_top.error_count == 0)
    if 8 in levels:
        lines = bound_lines(
            by_key[("ours", 8)],
            by_key[("reference", 8)],
            by_key[("floor", 8)],
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1,
            shared_cpus,
            TARGET_RATIO_C8,
            TARGET_FLOOR_SHARE_C8,
        )
        if lines:
            print("What this machine allows at c=8 (bench_support/bounds.py):")
            print("\n".join(lines))


def verdict(what: str, measured: str, met: bool) -> None:
    print(f"  {what:<40} measured {measured:<10} target {'met' if met else 'missed'}")


def print_security(rows: list[tuple[str, str, str, str, bool]]) -> None:
    print()
    print("Security checks (HTTP status of the launch POST)")
    header = f"{'check':<56} {'reference':>9} {'ours':>6}  {'expected (ref / ours)':<22} result"
    print(header)
    print("-" * len(header))
    for check, ref, ours, expected, as_expected in rows:
        result = "as expected" if as_expected else "NOT as expected"
        print(f"{check:<56} {ref:>9} {ours:>6}  {expected:<22} {result}")


def _replay_statuses(target: Target) -> tuple[int, int]:
    try:
        return replay_probe(target)
    except (JourneyError, requests.RequestException) as exc:
        log(f"  replay probe against {target.name} failed: {exc!r}")
        return 0, 0


def _forged_status(target: Target) -> int:
    try:
        return forged_probe(target)
    except (JourneyError, requests.RequestException) as exc:
        log(f"  forgery probe against {target.name} failed: {exc!r}")
        return 0


def security_rows(ours: Target, reference: Target) -> list[tuple[str, str, str, str, bool]]:
    ref_first, ref_replay = _replay_statuses(reference)
    our_first, our_replay = _replay_statuses(ours)
    ref_forged = _forged_status(reference)
    our_forged = _forged_status(ours)
    return [
        (
            "(a) first launch POST (valid)",
            str(ref_first),
            str(our_first),
            "200 / 200",
            ref_first == 200 and our_first == 200,
        ),
        (
            "(a) same POST replayed (same state, id_token, cookies)",
            str(ref_replay),
            str(our_replay),
            "200 / 4xx",
            ref_replay == 200 and 400 <= our_replay < 500,
        ),
        (
            "(b) forged id_token (stranger's key, platform's kid)",
            str(ref_forged),
            str(our_forged),
            "500 / 4xx",
            ref_forged == 500 and 400 <= our_forged < 500,
        ),
    ]


# -- main ------------------------------------------------------------------------------------


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds the ExitStack: servers stop, schema is dropped


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the sandboxes' request lines
    signal.signal(signal.SIGTERM, _terminate)
    with contextlib.ExitStack() as stack:
        folder = Path(tempfile.mkdtemp(prefix="bench-launch-"))
        stack.callback(shutil.rmtree, folder, True)
        if options.profile_only:
            run_profile(options, stack, folder)
            return 0
        pin, placement = cpu_split(options)

        our_platform = SandboxPlatform(
            issuer=f"http://127.0.0.1:{free_port()}",
            tool_url=f"http://127.0.0.1:{free_port()}",
        )
        ref_platform = SandboxPlatform(
            issuer=f"http://127.0.0.1:{free_port()}",
            tool_url=f"http://127.0.0.1:{free_port()}",
            client_id="reference-tool",
            deployment_id="reference-deployment-1",
        )
        null_platform = SandboxPlatform(
            issuer=f"http://127.0.0.1:{free_port()}",
            tool_url=f"http://127.0.0.1:{free_port()}",
            client_id="null-tool",
            deployment_id="null-deployment-1",
        )
        for plat in (our_platform, ref_platform, null_platform):
            port = int(plat.issuer.rsplit(":", 1)[1])
            stack.enter_context(SandboxServer(plat, "127.0.0.1", port))

        log(f"preparing our tool ({options.db}, store {options.store}) ...")
        ours_server = start_our_tool(options, stack, folder, our_platform, pin)
        log("starting the reference tool and the null tool ...")
        ref_server = start_reference_tool(options, stack, folder, ref_platform, pin)
        null_server = start_null_tool(options, stack, folder, null_platform, pin)
        for server in (ours_server, ref_server, null_server):
            server.wait_ready()

        ours = Target("ours", our_platform)
        reference = Target("reference", ref_platform)
        floor = Target("floor", null_platform)
        servers = {"ours": ours_server, "reference": ref_server, "floor": null_server}
        for target, server in (
            (ours, ours_server),
            (reference, ref_server),
            (floor, null_server),
        ):
            errors = warm_up(target, options.warmup)
            if errors:
                log(f"warm-up of {target.name} saw errors: {errors[:5]}\n{server.log_tail()}")

        # Returning browsers: each user's browser kept the cookies of one earlier launch.
        kept = kept_cookies(ours)
        results: list[LevelResult] = []
        for c in options.levels:
            launches = options.launches_serial if c == 1 else options.launches
            runs = [(ours, None), (reference, None), (floor, None), (ours, kept)]
            for target, kept_jars in runs:
                result = run_level(
                    target,
                    c,
                    launches,
                    options.via_auth,
                    servers[target.name].cpu_seconds,
                    kept_jars,
                )
                log(
                    f"  {result.tool:<10} c={c:<2} {result.ok}/{launches} ok, "
                    f"{result.per_second:.1f}/s, {result.wall_seconds:.1f} s"
                )
                results.append(result)

        rows = security_rows(ours, reference)

        print()
        print(
            f"LTI 1.3 login+launch benchmark - {os.cpu_count()} CPUs, Python "
            f"{pyplatform.python_version()}; {placement}"
        )
        store = f"Redis ({options.redis_url})" if options.store == "redis" else "the database"
        db = "PostgreSQL (fresh schema)" if options.db == "postgres" else "SQLite (fresh file)"
        print(
            f"ours:      lti-tool serve --workers {WORKERS} --threads {options.threads} "
            f"(gunicorn gthread); {db}; state/nonce/sessions in {store}"
        )
        ref_kind = options.ref_worker_class + (
            f" --threads {options.threads}" if options.ref_worker_class == "gthread" else ""
        )
        print(
            f"reference: pylti1p3 2.0.0 Flask example style, gunicorn --workers {WORKERS} "
            f"--worker-class {ref_kind}; FlaskCacheDataStorage on Flask-Caching FileSystemCache "
            f"(CACHE_THRESHOLD {options.ref_cache_threshold or '0 = unbounded'}), "
            "public key caching 7200 s"
        )
        print(
            f"floor:     a null tool that only verifies the id_token (signature, iss, aud, exp) "
            f"against the same emulator, gunicorn --workers {WORKERS} gthread --threads "
            f"{options.threads} (bench_support/null_tool.py)"
        )
        answer = (
            "fetched from the sandbox /auth endpoint (GET)"
            if options.via_auth
            else "signed in-process by the bench with the sandbox platform's key and claims "
            "(warm-up went through /auth once per tool)"
        )
        print(
            "journey:   fresh cookie jar; POST /lti/login -> 302; platform id_token "
            f"{answer}; POST /lti/launch -> 200 with the lti-launch-token meta tag, or a 303 "
            "whose GET (counted) answers the launch's page"
        )
        print(
            "back:      'ours, back' rows: returning browsers, each user's jar holding the "
            "cookies of one earlier launch (the cookie check's cookie lasts 30 days, so the "
            "login goes straight to the platform: 3 requests instead of 4). The reference and "
            "the floor have no cookie check: their journey is the same for a returning browser"
        )
        print(
            "latency:   whole journey of successful launches; launches/s = successful "
            "launches / wall time; client CPU = bench process CPU / wall time; server CPU = "
            "the server's processes' CPU time (from /proc) / launches: the load-independent "
            "cost of a launch"
        )
        print()
        print_table(results)
        print_ratios_and_targets(results, options.levels, shared_cpus=not pin)
        print_security(rows)
        times = server_times(ours_server.log_path)
        if times:
            print()
            print("Our tool's own time per request, all levels (its access log):")
            for name, count, mean, p95 in times[:8]:
                print(f"  {name:<28} {count:>6} requests  mean {mean:7.1f} ms  p95 {p95:7.1f} ms")
        if options.profile:
            sys.stdout.flush()
            run_profile(options, stack, folder)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        sys.exit(130)
