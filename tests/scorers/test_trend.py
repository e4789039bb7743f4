"""trend(cards): drills of a series in start order, and whether each milestone improved."""

from __future__ import annotations

import pytest

from kunren.errors import UsageError
from kunren.record.events import DrillStarted, Event, Milestone, Notification
from kunren.scorers import Scorecard, score, trend
from tests.scorers.helpers import record, scenario


def drill(
    name: str, wall: str, *events: Event, end: float = 3600.0, series: str = "web-outage"
) -> Scorecard:
    body = record(*events, end=end)
    body[0] = DrillStarted(seq=1, wall=wall, drill=name, scenario_id=series, duration=3600.0)
    return score(scenario(), body)


def notified(at: float) -> Notification:
    return Notification(at=at, notice="n", sender="alice", role="support")


def test_drills_are_ordered_by_start_time_and_joined_with_arrows() -> None:
    cards = [
        drill("q3", "2024-07-17T18:00:00+09:00", notified(1880)),
        drill("q1", "2024-01-17T18:00:00+09:00"),
        drill("q2", "2024-04-17T09:00:00+00:00", notified(2650)),  # other offset, same order
    ]
    result = trend(cards)
    assert result.drills == ["q1", "q2", "q3"]
    line = next(line for line in result.lines if line.milestone == "customer_notified")
    assert line.display == "60+ min → 44 min → 31 min"
    assert (line.change, line.improved) == ("improved", True)
    assert line.within_seconds == 1800


@pytest.mark.parametrize(
    ("before", "after", "change"),
    [
        (dict(at=600), dict(at=300), "improved"),
        (dict(at=300), dict(at=600), "worse"),
        (dict(at=600), dict(at=620), "same"),  # both "10 min"
        (dict(end=1200), dict(at=900), "improved"),  # 20+ min then 15 min: proven
        (dict(end=600), dict(at=900), "unknown"),  # 10+ min then 15 min: cannot tell
        (dict(at=600), dict(end=1200), "worse"),  # 10 min then 20+ min
        (dict(at=1500), dict(end=1200), "unknown"),  # 25 min then 20+ min
        (dict(end=1200), dict(end=1800), "unknown"),
    ],
)
def test_improvement_is_claimed_only_when_censored_bounds_prove_it(
    before: dict[str, float], after: dict[str, float], change: str
) -> None:
    def card(name: str, wall: str, spec: dict[str, float]) -> Scorecard:
        events = (
            [Milestone(at=spec["at"], name="detected", actor="erin", role="sre")]
            if "at" in spec
            else []
        )
        return drill(name, wall, *events, end=spec.get("end", 3600.0))

    result = trend(
        [
            card("a", "2024-01-01T00:00:00+00:00", before),
            card("b", "2024-02-01T00:00:00+00:00", after),
        ]
    )
    line = next(line for line in result.lines if line.milestone == "detected")
    assert line.change == change
    assert line.improved == {"improved": True, "worse": False, "same": False}.get(change)


def test_one_drill_is_the_first_of_its_series() -> None:
    result = trend([drill("q1", "2024-01-17T18:00:00+09:00", notified(600))])
    assert {line.change for line in result.lines} == {"first"}


def test_milestones_nobody_reached_and_nobody_was_held_to_are_left_out() -> None:
    result = trend(
        [drill("q1", "2024-01-17T18:00:00+09:00"), drill("q2", "2024-04-17T18:00:00+09:00")]
    )
    assert [line.milestone for line in result.lines] == ["detected", "customer_notified"]


def test_drills_of_different_series_cannot_be_compared() -> None:
    with pytest.raises(UsageError, match="different series cannot be compared: a, web-outage"):
        trend(
            [
                drill("q1", "2024-01-17T18:00:00+09:00"),
                drill("x", "2024-01-18T18:00:00+09:00", series="a"),
            ]
        )
