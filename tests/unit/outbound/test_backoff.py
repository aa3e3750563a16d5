"""The jittered exponential backoff shared by the outbound clients."""

from __future__ import annotations

import pytest

from lti_tool.outbound.retry import Backoff


@pytest.mark.parametrize("attempt", range(6))
def test_backoff_is_jittered_and_capped(attempt: int) -> None:
    backoff = Backoff(retries=5, base=0.5, cap=4.0)
    ceiling = min(4.0, 0.5 * 2**attempt)

    delays = {backoff.delay(attempt) for _ in range(50)}

    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert len(delays) > 1
    assert backoff.attempts == 6
