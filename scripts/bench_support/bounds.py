"""What the machine allows at all: the bounds of issue 14's launch targets, from the figures
of the same run.

When the client shares the CPUs with the servers, every launch costs the client's CPU as well
as the servers'. Our journey is four requests for a new browser (login, cookie check, launch
POST, its page) against the floor's two, so the client alone spends more per launch on ours.
Its cost bounds our rate even if our server took no CPU at all: ``cpus / client seconds per
launch``, and with it the mean latency at a given concurrency (Little's law: journeys in
flight = rate x mean time). The targets are compared with these bounds, so a run says when a
target is beyond what the machine can show rather than only "missed"."""

from __future__ import annotations

from typing import Protocol


class Measured(Protocol):
    @property
    def per_second(self) -> float: ...

    @property
    def ok(self) -> int: ...

    client_cpu_seconds: float
    server_cpu_seconds: float
    launches: int


def client_seconds_per_launch(result: Measured) -> float:
    return result.client_cpu_seconds / result.ok if result.ok else float("nan")


def bound_lines(
    ours: Measured,
    reference: Measured,
    floor: Measured,
    cpus: int,
    shared: bool,
    target_ratio: float,
    target_floor_share: float,
    concurrency: int = 8,
) -> list[str]:
    """Lines saying how far the targets are reachable on this machine in this run."""
    lines: list[str] = []
    if reference.per_second > 0 and floor.per_second > 0:
        floor_over_ref = floor.per_second / reference.per_second
        line = (
            f"  the floor is {floor_over_ref:.2f}x the reference here, so "
            f"{target_ratio:.0f}x the reference is "
        )
        if floor_over_ref < target_ratio:
            line += (
                f"{target_ratio / floor_over_ref:.2f}x the floor: faster than a tool that only "
                "verifies the id_token"
            )
        else:
            line += f"{target_ratio / floor_over_ref:.0%} of the floor"
        lines.append(line)
    client = client_seconds_per_launch(ours)
    if shared and client == client and client > 0:
        ceiling = cpus / client
        lines.append(
            f"  the client alone spends {client * 1000:.1f} ms CPU per launch of ours "
            f"({client_seconds_per_launch(floor) * 1000:.1f} ms per launch of the floor): "
            f"with a server taking no CPU, ours could reach at most {ceiling:.0f} launches/s "
            f"on {cpus} CPUs, and with {concurrency} browsers at once a mean journey of at "
            f"least {concurrency / ceiling * 1000:.0f} ms (Little's law; p95 is above the mean)"
        )
        if floor.per_second > 0:
            wanted = target_floor_share * floor.per_second
            left = cpus - wanted * client
            per_launch = left / wanted * 1000 if wanted else float("nan")
            lines.append(
                f"  {target_floor_share:.0%} of the floor is {wanted:.0f} launches/s: it would "
                f"leave our server, PostgreSQL and Redis {max(0.0, per_launch):.1f} ms CPU per "
                f"launch; the floor's server alone uses "
                f"{floor.server_cpu_seconds * 1000 / max(1, floor.launches):.1f} ms"
            )
    return lines
