"""The conductor sent SIGHUP at seeded random moments: it reverts everything itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.hangup import run_hangups


@pytest.mark.integration
def test_hangups_at_random_moments_revert_everything_and_lose_no_acknowledged_event(
    tmp_path: Path,
) -> None:
    outcome = run_hangups(tmp_path, trials=6, seed=20261201, speed=120)

    assert outcome.problems == []
    assert outcome.hangups >= 5
    assert outcome.acknowledged >= 6 * 5
