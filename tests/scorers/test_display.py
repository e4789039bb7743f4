"""The one display rule the retro reads: "31 min", "45 s", "60+ min"."""

from __future__ import annotations

import pytest

from kunren.scorers.display import format_timing, join_trend


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (59.4, "59 s"),
        (59.6, "1 min"),  # rounds to 60 s, which is a minute
        (89, "1 min"),
        (90, "2 min"),  # halves round up, not to even
        (150, "3 min"),
        (1880, "31 min"),
        (5400, "90 min"),  # stays in minutes so a trend compares like with like
    ],
)
def test_measured_times_round_to_whole_minutes_or_seconds_under_a_minute(
    seconds: float, shown: str
) -> None:
    assert format_timing(seconds) == shown


@pytest.mark.parametrize(
    ("bound", "shown"),
    [(3600, "60+ min"), (3599.9, "59+ min"), (3000, "50+ min"), (40, "40+ s")],
)
def test_censored_times_show_the_observed_bound_rounded_down_with_a_plus(
    bound: float, shown: str
) -> None:
    assert format_timing(bound, censored=True) == shown


def test_japanese_units() -> None:
    assert format_timing(1880, lang="ja") == "31分"
    assert format_timing(45, lang="ja") == "45秒"
    assert format_timing(3600, censored=True, lang="ja") == "60分以上"


def test_no_time_is_a_dash_and_trends_join_with_arrows() -> None:
    assert format_timing(None) == "–"
    assert join_trend(["60+ min", "44 min", "31 min"]) == "60+ min → 44 min → 31 min"
