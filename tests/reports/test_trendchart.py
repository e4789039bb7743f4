"""The trend chart: every point titled with its value and provenance, values written where
they can be read, censored points hollow."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from kunren.record.timeline import DrillProvenance
from kunren.reports.texts import Texts
from kunren.reports.trendchart import trend_svg
from kunren.scorers import Scorecard, score
from kunren.scorers.trend import DrillSummary, TrendMilestone, trend_of
from tests.scorers.helpers import record, scenario

FIRST = datetime(2024, 1, 9, 18, 0, tzinfo=timezone(timedelta(hours=9)))


def _drill(number: int, minutes: float | None) -> DrillSummary:
    reached = minutes is not None
    notified = TrendMilestone(
        label="Customers notified",
        label_ja="顧客への連絡",
        within_seconds=1800.0,
        reached=reached,
        seconds=minutes * 60 if minutes is not None else None,
        censored=not reached,
        bound_seconds=None if reached else 3600.0,
        display=f"{minutes:g} min" if minutes is not None else "60+ min",
        source="simulated" if number % 2 else "participant",
    )
    return DrillSummary(
        drill=f"d{number:03d}",
        series="web-outage",
        started=(FIRST + timedelta(weeks=number)).isoformat(),
        ended="ended",
        t0_basis="first_fault",
        observed_seconds=3600.0,
        provenance=DrillProvenance(
            kind="live", clock="virtual" if number % 2 else "real", speed=0.0 if number % 2 else 1
        ),
        milestones={"customer_notified": notified},
    )


def _svg(count: int) -> str:
    drills = [_drill(n, None if n == 0 else 60 - n % 50) for n in range(count)]
    tx = Texts("en", _card())
    return str(trend_svg(trend_of(drills), tx))


def _card() -> Scorecard:
    return score(scenario(), record())


@pytest.mark.parametrize("count", [3, 19])
def test_a_short_series_writes_every_value(count: int) -> None:
    svg = _svg(count)
    assert len(re.findall(r'class="val"', svg)) == count
    assert len(re.findall(r"<circle ", svg)) == count


def test_a_long_series_writes_only_the_latest_value_but_titles_every_point() -> None:
    svg = _svg(160)
    values = re.findall(r'class="val" fill="[^"]+">([^<]+)</text>', svg)
    assert values == [f"{60 - 159 % 50:g} min"]  # the latest drill's
    titles = re.findall(r"<circle [^>]*><title>([^<]+)</title>", svg)
    assert len(titles) == 160
    assert titles[0] == "Customers notified: 60+ min (d000, live)"
    assert titles[1] == "Customers notified: 59 min (d001, live · virtual clock)"
    hollow = re.findall(r'<circle [^>]*fill="#fff"', svg)
    assert len(hollow) == 1  # the one drill that never notified: drawn at its bound, hollow
