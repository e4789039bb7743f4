"""One clock factory over one ClockKind: what --clock/--speed and the record ask for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kunren.drills.runner import RunSettings
from kunren.errors import UsageError
from kunren.runtime.clock import (
    CLOCK_KINDS,
    RealClock,
    ScaledClock,
    VirtualClock,
    clock_kind,
    is_virtual,
    make_clock,
)


def test_make_clock_makes_each_kind_starting_at_the_given_drill_time() -> None:
    virtual = make_clock("virtual", start=90.0)
    assert isinstance(virtual, VirtualClock) and virtual.now() == 90.0
    real = make_clock("real", speed=30.0, start=5.0)
    assert type(real) is RealClock and real.speed == 1.0 and real.now() >= 5.0
    scaled = make_clock("scaled", speed=30.0, start=5.0)
    assert type(scaled) is ScaledClock and scaled.speed == 30.0 and scaled.now() >= 5.0


def test_a_virtual_clock_keeps_the_wall_time_it_is_given() -> None:
    wall = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
    clock = make_clock("virtual", start=60.0, wall_start=wall)
    assert clock.wall() == wall


def test_only_the_virtual_clock_passes_no_real_time() -> None:
    assert [is_virtual(make_clock(kind, speed=60.0)) for kind in CLOCK_KINDS] == [
        False,
        False,
        True,
    ]


def test_clock_kind_reads_a_recorded_name_and_refuses_others() -> None:
    assert [clock_kind(name) for name in ("real", "scaled", "virtual")] == list(CLOCK_KINDS)
    with pytest.raises(UsageError, match=r"^unknown clock 'import' \(expected real, scaled"):
        clock_kind("import")


@pytest.mark.parametrize(
    ("asked", "speed", "kind"),
    [("real", 1.0, "real"), ("real", 10.0, "scaled"), ("virtual", 10.0, "virtual")],
)
def test_run_settings_pick_the_clock_from_clock_and_speed(
    asked: str, speed: float, kind: str
) -> None:
    settings = RunSettings(clock_kind="virtual" if asked == "virtual" else "real", speed=speed)
    assert settings.kind == kind
    assert is_virtual(settings.clock()) is (kind == "virtual")
