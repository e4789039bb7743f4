"""Notice quality and cadence, scored from the record alone."""

from __future__ import annotations

from kunren.record.events import Notification
from kunren.scorers import score
from kunren.scorers.notice_quality import NoticeQualityScorer
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
        sent("n-1", 600, ["workaround"], promised=600 + 1800),  # next update by T+40:00
        sent("n-2", 600 + 1800 + 480, [], promised=None),  # 8 min late
    )
    card = score(scenario(notifications=CHECKLIST), events, [NoticeQualityScorer])
    (result,) = card.scorers
    values = {m.name: (m.value, m.display, m.censored) for m in result.metrics}
    assert values == {
        "notices_sent": (2.0, "", False),
        "notices_lacking": (1.0, "1 of 2", False),
        "updates_late": (1.0, "1 of 1", False),
        "worst_update_delay": (480.0, "8 min", False),
    }
    assert result.findings == [
        "notice n-1 (investigating, aiko, T+10:00) lacked: workaround",
        "notice n-1 (investigating, aiko, T+10:00) promised the next update by T+40:00; "
        "it went out at T+48:00, 8 min late",
    ]


def test_a_promise_the_drill_ended_on_is_censored_never_a_measured_delay() -> None:
    events = record(sent("n-1", 600, [], promised=1800), end=3000)
    (result,) = score(scenario(notifications=CHECKLIST), events, [NoticeQualityScorer]).scorers
    worst = next(m for m in result.metrics if m.name == "worst_update_delay")
    assert (worst.value, worst.display, worst.censored) == (1200.0, "20+ min", True)
    assert result.findings == [
        "notice n-1 (investigating, aiko, T+10:00) promised the next update by T+30:00; "
        "none went out before the drill ended (20+ min late)"
    ]


def test_an_update_on_time_and_a_promise_not_yet_due_are_no_findings() -> None:
    events = record(
        sent("n-1", 600, [], promised=1800),
        sent("n-2", 1700, [], promised=5000),  # due after the drill's end: not yet due
        end=3600,
    )
    (result,) = score(scenario(notifications=CHECKLIST), events, [NoticeQualityScorer]).scorers
    assert result.findings == []
    late = next(m for m in result.metrics if m.name == "updates_late")
    assert late.display == "0 of 1"


def test_a_drill_without_notices_adds_nothing() -> None:
    (result,) = score(scenario(), record(), [NoticeQualityScorer]).scorers
    assert (result.metrics, result.findings) == ([], [])
