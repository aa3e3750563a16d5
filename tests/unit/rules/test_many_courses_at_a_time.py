"""A very large ``max_parallel_courses`` (a typo, or "no limit") makes a plan as fast as a small
one. The planner tried every number of courses at once from two up to the setting while a
deadline stayed missed, running the whole timeline each time: a student whose deadline had
passed kept a web worker busy for ever (10**12 tries)."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from lti_tool.rules import Checklist, Completion, CompletionStatus, evaluate, load_qualification

WOUND_CARE = Path(__file__).parents[2] / "fixtures" / "qualifications" / "wound-care.toml"


def test_a_missed_deadline_with_no_real_limit_is_planned_at_once(tmp_path: Path) -> None:
    unlimited = tmp_path / "unlimited.toml"
    text = WOUND_CARE.read_text()
    assert "max_parallel_courses = 2" in text
    unlimited.write_text(
        text.replace("max_parallel_courses = 2", f"max_parallel_courses = {10**12}")
    )
    qualification = load_qualification(unlimited)
    going = Completion("W01", CompletionStatus.IN_PROGRESS, date(2026, 11, 1), None, "test")
    found: list[Checklist] = []

    def plan() -> None:
        # WC1 started in June: its October deadline has passed, at any number at once.
        found.append(
            evaluate(qualification, [going], {"WC1": date(2026, 6, 15)}, date(2026, 12, 7))
        )

    # A daemon thread, so a planner that never ends fails the test instead of hanging it;
    # 20 seconds is far beyond the milliseconds it takes, however busy the machine.
    worker = threading.Thread(target=plan, daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "the plan was still being made after 20 seconds"
    plan_of_wc1 = found[0].plan.module("WC1")
    assert not plan_of_wc1.feasible
    said = " | ".join(plan_of_wc1.notes)
    assert "can no longer be met, even studying" in said, said
    assert str(10**12) not in said
