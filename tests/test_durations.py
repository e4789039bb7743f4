"""Durations as people write them, and back: the one place text becomes seconds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kunren.durations import (
    format_clock,
    format_duration,
    parse_clock_offset,
    parse_duration,
    parse_offset,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90.0),
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("1.5h", 5400.0),
        ("2m30s", 150.0),
        ("250ms", 0.25),
        ("1d", 86400.0),
        (" 5m ", 300.0),
        ("0", 0.0),
        (0, 0.0),
        ("PT5M", 300.0),
        ("PT1H30M", 5400.0),
        ("PT0.5S", 0.5),
        ("P1DT2H", 93600.0),
        ("P1D", 86400.0),
        ("pt90s", 90.0),
    ],
)
def test_accepted_forms(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fifteen", "expected a duration like 5m, got 'fifteen'"),
        ("5 minutes", "expected a duration like 5m, got '5 minutes'"),
        ("5x", "expected a duration like 5m, got '5x'"),
        ("", "expected a duration like 5m, got ''"),
        ("P", "expected a duration like 5m, got 'P'"),
        ("PT", "expected a duration like 5m, got 'PT'"),
        ("-5m", "expected a duration like 5m, got '-5m'"),
        (10, "expected a duration like 5m, got 10 (add a unit: 5m, 90s)"),
        (1.5, "expected a duration like 5m, got 1.5 (add a unit: 5m, 90s)"),
        (True, "expected a duration like 5m, got True"),
        (None, "expected a duration like 5m, got None"),
        (["5m"], "expected a duration like 5m, got ['5m']"),
    ],
)
def test_rejected_forms_say_what_to_write(text: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (45, "45s"), (90, "1m30s"), (300, "5m"), (3600, "1h"), (5400, "1h30m"),
     (3725, "1h2m5s"), (59.6, "1m"), (-60, "-1m")],
)  # fmt: skip
def test_format_duration_is_compact(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@given(st.integers(min_value=0, max_value=30 * 86400))
def test_formatted_durations_parse_back_to_the_same_seconds(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "00:00"), (65, "01:05"), (600, "10:00"), (3600, "1:00:00"), (3725, "1:02:05"),
     (-30, "-00:30")],
)  # fmt: skip
def test_format_clock_reads_like_a_drill_clock(seconds: float, text: str) -> None:
    assert format_clock(seconds) == text


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("12:30", 750.0), ("1:02:03", 3723.0), ("00:05.5", 5.5), ("5m", 300.0), ("PT2M", 120.0)],
)
def test_offsets_accept_clock_and_duration_forms(text: str, seconds: float) -> None:
    assert parse_offset(text) == seconds


def test_a_bad_clock_offset_says_what_to_write() -> None:
    with pytest.raises(ValueError) as caught:
        parse_clock_offset("12h30")
    assert str(caught.value) == "expected an offset like 12:30 or 1:02:03, got '12h30'"
