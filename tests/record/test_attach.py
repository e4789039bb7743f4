"""The one rule for stamping an entry from outside the conductor (``entry_clock``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kunren.errors import UsageError
from kunren.record.attach import AttachedClock, entry_clock, recovery_clock
from kunren.record.events import DrillEnded, DrillResumed, DrillStarted, Event

START = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def started(clock: str = "scaled", speed: float = 10.0, wall: datetime = START) -> DrillStarted:
    return DrillStarted(
        seq=1,
        at=0.0,
        wall=wall.isoformat(),
        drill="d",
        scenario_id="s",
        duration=1200.0,
        clock=clock,
        speed=speed,
    )


def test_at_gives_the_drill_time_and_its_wall_time_from_the_last_start_or_resume() -> None:
    began = datetime.now(UTC) - timedelta(seconds=30)
    back = began + timedelta(seconds=20)  # resumed at drill time 600, after a crash
    resumed = DrillResumed(seq=5, at=600.0, wall=back.isoformat())
    events: list[Event] = [started(wall=began), resumed]
    early = entry_clock(events, 120.0).clock
    assert (early.now(), early.wall()) == (120.0, began + timedelta(seconds=12))  # speed 10
    later = entry_clock(events, 900.0).clock
    assert (later.now(), later.wall()) == (900.0, back + timedelta(seconds=30))


def test_without_at_a_running_drill_follows_its_own_clock() -> None:
    entry = entry_clock([started(wall=datetime.now(UTC))], None)
    assert isinstance(entry.clock, AttachedClock) and not entry.late
    assert 0 <= entry.clock.now() < 60


def test_a_virtual_drill_needs_at_for_a_mark_but_not_for_a_note() -> None:
    events: list[Event] = [started(clock="virtual", speed=0.0)]
    with pytest.raises(UsageError, match="virtual clock: give the drill time with --at"):
        entry_clock(events, None)
    assert entry_clock(events, None, need_time=False).clock.now() == 0.0


def test_after_the_end_only_a_late_entry_is_taken_and_never_past_the_end() -> None:
    events: list[Event] = [started(), DrillEnded(seq=9, at=1200.0, wall=START.isoformat())]
    with pytest.raises(UsageError, match="after its end, so nothing was recorded"):
        entry_clock(events, 300.0)
    late = entry_clock(events, 300.0, late=True)
    assert (late.clock.now(), late.late) == (300.0, True)
    note = entry_clock(events, None, late=True, need_time=False)
    assert (note.clock.now(), note.late) == (1200.0, True)
    with pytest.raises(UsageError, match="after the drill's end at 20:00"):
        entry_clock(events, 1300.0, late=True)


def test_recovery_events_are_stamped_no_later_than_the_drills_end() -> None:
    hours_ago = datetime.now(UTC) - timedelta(hours=3)
    clock = recovery_clock([started(speed=1.0, wall=hours_ago)])
    assert clock.now() == 1200.0  # three hours later, a 20-minute drill is at its end
