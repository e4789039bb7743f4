"""Notice quality and cadence, scored from the record alone onto each Notice of the card."""

from __future__ import annotations

from kunren.record.events import DrillStarted, Notification
from kunren.scorers import score
from kunren.scorers.card import NextUpdate
from tests.scorers.helpers import record, scenario

CHECKLIST = {"checklist": ["affected", "workaround", "next_update", "no_eta"]}


def sent(notice: str, at: float, lacking: list[str], promised: float | None) -> Notification:
    return Notification(
        at=at,
        notice=notice,
        status="sent",
        channel="email",
        template="investigating",
        sender="aiko",
        role="support",
        lacking=lacking,
        next_update_at=promised,
    )


def test_each_notice_says_what_it_lacked_and_a_late_update_by_how_much() -> None:
    events = record(
        sent("n-1", 600, ["workaround", "no_eta"], promised=600 + 1800),  # by T+40:00
        sent("n-2", 600 + 1800 + 480, [], promised=None),  # 8 min late
    )
    card = score(scenario(notifications=CHECKLIST), events)
    assert card.scenario.checklist == ["affected", "workaround", "next_update", "no_eta"]
    first, second = card.notices
    assert (first.checked, first.lacking, first.next_update_at) == (
        True,
        ["workaround", "no_eta"],
        2400.0,
    )
    assert first.next_update == NextUpdate(
        status="late", notice="n-2", at=2880.0, late_seconds=480.0, display="8 min late"
    )
    assert (second.checked, second.lacking, second.next_update) == (True, [], None)


def test_a_promise_the_drill_ended_on_is_censored_never_a_measured_delay() -> None:
    events = record(sent("n-1", 600, [], promised=1800), end=3000)
    (notice,) = score(scenario(notifications=CHECKLIST), events).notices
    assert notice.next_update == NextUpdate(
        status="no_update",
        censored=True,
        bound_seconds=1200.0,
        display="20+ min late (no update before the drill ended)",
    )
    assert notice.next_update.late_seconds is None


def test_an_update_on_time_and_a_promise_not_yet_due() -> None:
    events = record(
        sent("n-1", 600, [], promised=1800),
        sent("n-2", 1700, [], promised=5000),  # due after the drill's end: not yet due
        end=3600,
    )
    first, second = score(scenario(notifications=CHECKLIST), events).notices
    assert first.next_update == NextUpdate(
        status="on_time", notice="n-2", at=1700.0, late_seconds=0.0, display="on time"
    )
    assert second.next_update == NextUpdate(
        status="not_due", display="not due when the drill ended"
    )


def test_the_next_update_is_the_first_notice_sent_later_whatever_order_it_was_drafted() -> None:
    events = record(
        Notification(at=100, notice="n-2", status="drafted", sender="ken"),
        sent("n-1", 600, [], promised=1200),
        sent("n-2", 1500, [], promised=None),  # drafted first, sent after n-1: its update
    )
    by_id = {n.notice: n for n in score(scenario(notifications=CHECKLIST), events).notices}
    update = by_id["n-1"].next_update
    assert update is not None and (update.notice, update.late_seconds) == ("n-2", 300.0)


def test_a_notice_that_never_went_out_keeps_no_promise() -> None:
    failed = sent("n-1", 600, ["affected"], promised=1200).model_copy(update={"status": "failed"})
    (notice,) = score(scenario(notifications=CHECKLIST), record(failed)).notices
    assert (notice.sent_at, notice.next_update_at, notice.next_update) == (None, None, None)
    assert notice.lacking == ["affected"]  # what it would have lacked is still on the card


def test_without_a_checklist_nothing_is_checked() -> None:
    (notice,) = score(scenario(), record(sent("n-1", 600, [], promised=None))).notices
    assert (notice.checked, notice.lacking, notice.next_update) == (False, [], None)
    assert score(scenario(), record()).scenario.checklist == []


def test_an_imported_drill_s_notices_were_never_checked() -> None:
    events = record(sent("n-1", 600, [], promised=None))
    events[0] = DrillStarted(
        seq=1, drill="d1", scenario_id="web-outage", duration=3600, source="import"
    )
    (notice,) = score(scenario(notifications=CHECKLIST), events).notices
    assert (notice.checked, notice.lacking) == (False, [])
