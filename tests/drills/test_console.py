"""The console's lines (live console, ``kunren log``) are rendered from timeline entries.

The exact lines are a contract (the crash tests read them, users grep them), so each event
type's line is pinned here; the numbers only some events have (spawn rate, failures/s, p95, a
notice's raw status and sender, the clock's speed) come from the entry's own fields.
"""

from __future__ import annotations

import pytest

from kunren.drills.console import describe, entry_line, line
from kunren.record import events as ev
from kunren.record.timeline import Entry, entry
from tests.record.test_timeline import ONE_OF_EACH

EXPECTED = {
    "drill.started": "drill d started (; real clock, speed 1)",
    "drill.ended": "drill ended: duration reached",
    "drill.aborted": "drill ABORTED: could not start: port 8080 busy",
    "drill.resumed": "drill resumed: resumed after the conductor stopped",
    "fault.injecting": "injecting f (process.kill) on pid 1",
    "fault.injected": "injected f on pid 1",
    "fault.failed": "fault f FAILED: boom",
    "fault.reverting": "reverting f",
    "fault.reverted": "reverted f",
    "fault.revert_failed": "REVERT FAILED for f: boom",
    "service.started": "service web started (pid 10)",
    "service.stopped": "service web stopped",
    "service.exited": "service web EXITED (killed by signal 9)",
    "load.stage": "load: 10 users, spawn 2/s (planned; no load on the virtual clock)",
    "load.stats": "load stats: 3.5 req/s, 0.0 failures/s",
    "load.lost": "load: Locust worker 2 LOST (the rest go on): killed",
    "probe.failed": "probe health FAILED: 500",
    "probe.recovered": "probe health recovered",
    "alert": "alert ShopDown firing (from generic)",
    "inject": "inject inquiry: a customer calls",
    "milestone": "milestone detected by erin (sre) [simulated]",
    "notification": "notice sent by bob via capture to  (2 recipients)",
    "runbook": "runbook restart by erin: failed",
    "readiness": "readiness: carol (support) CANNOT open Status page",
    "participant.joined": "bob joined as support",
    "note": "note: hello",
    "amendment": "amendment: event #3 set to 01:30",
}


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=lambda e: e.type)
def test_every_event_type_has_its_console_line_from_its_entry(event: ev.Event) -> None:
    assert describe(entry(event)) == EXPECTED[event.type]
    assert line(event) == f"[00:00] #0    {EXPECTED[event.type]}"


def test_the_expected_lines_cover_every_event_type() -> None:
    assert set(EXPECTED) == {e.type for e in ONE_OF_EACH}


def test_load_lines_show_spawn_rate_failures_and_p95_from_the_entry() -> None:
    stage = entry(ev.LoadStage(seq=4, at=65, users=200, spawn_rate=12.5))
    assert (stage.count, stage.spawn_rate) == (200, 12.5)
    assert entry_line(stage) == "[01:05] #4    load: 200 users, spawn 12.5/s"
    stats = entry(ev.LoadStats(seq=5, at=70, rps=41.26, failures_per_s=3.04, p95_ms=812.4))
    assert (stats.failures_per_s, stats.p95_ms) == (3.04, 812.4)
    assert describe(stats) == "load stats: 41.3 req/s, 3.0 failures/s, p95 812 ms"


def test_a_partial_notice_shows_its_recorded_status_and_its_sender() -> None:
    notice = ev.Notification(
        status="sent",
        sender="bob",
        approver="carol",
        channel="email",
        audience="all-customers",
        recipients=120,
        failed=["x@example.com"],
    )
    made = entry(notice)
    assert (made.status, made.recorded_status, made.sender) == ("partial", "sent", "bob")
    assert describe(made) == "notice sent by bob via email to all-customers (120 recipients)"


def test_the_start_line_says_the_clock_and_its_speed_and_virtual_time_has_none() -> None:
    scaled = ev.DrillStarted(
        drill="d1", scenario_id="s", title="Shop down", duration=60, clock="scaled", speed=40
    )
    assert describe(entry(scaled)) == "drill d1 started (Shop down; scaled clock, speed 40)"
    virtual = ev.DrillStarted(
        drill="d1", scenario_id="s", title="Shop down", duration=60, clock="virtual", speed=0
    )
    assert describe(entry(virtual)) == "drill d1 started (Shop down; virtual clock)"


def test_late_entries_say_they_were_recorded_after_the_drill_ended() -> None:
    late = ev.Milestone(seq=9, at=1800, name="resolved", actor="ann", source="facilitator")
    suffix = " [late entry: recorded after the drill ended]"
    assert line(late) == "[30:00] #9    milestone resolved by ann [facilitator]"
    assert line(late.model_copy(update={"late": True})).endswith(suffix)
    assert line(ev.Note(text="retro", late=True)).endswith(suffix)


def test_a_line_is_drawn_from_an_entry_alone_with_no_event_behind_it() -> None:
    made = Entry(
        seq=12,
        at=125,
        kind="load.stats",
        lane="load",
        count=7.0,
        failures_per_s=0.5,
        p95_ms=None,
    )
    assert entry_line(made) == "[02:05] #12   load stats: 7.0 req/s, 0.5 failures/s"
