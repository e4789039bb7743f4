"""Property tests over many generated records: the Scorecard never contradicts itself.

Each record is a drill with faults, probes, alerts, marks by several roles and sources, and
customer notices with failures and retries, in random order and times; whatever the record,
the numbers the report shows side by side must agree.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kunren.record.events import (
    Alert,
    DrillAborted,
    DrillEnded,
    DrillStarted,
    Event,
    FaultInjected,
    FaultReverted,
    Milestone,
    Notification,
    ParticipantJoined,
    ProbeFailed,
    ProbeRecovered,
)
from kunren.scorers import Scorecard, score
from tests.scorers.helpers import scenario

PEOPLE = [("erin", "sre"), ("bob", "support"), ("carol", "support"), ("frank", "commander")]
SOURCES = ["participant", "facilitator", "simulated"]
MILESTONES = ["detected", "triaged", "customer_notified", "resolved"]
SCENARIO = scenario(
    objectives={
        "detected": {"within": "5m"},
        "triaged": {"within": "15m", "by": "sre"},
        "customer_notified": {"within": "30m", "by": "support"},
    }
)
times = st.floats(min_value=0, max_value=3600, allow_nan=False).map(lambda t: round(t, 1))


@st.composite
def events(draw: st.DrawFn) -> list[Event]:
    body: list[Event] = [DrillStarted(drill="d", scenario_id="web-outage", duration=3600)]
    for index in range(draw(st.integers(0, 2))):
        at = draw(times)
        body.append(FaultInjected(at=at, fault=f"f{index}", kind="http.fault", revert={}))
        if draw(st.booleans()):
            body.append(FaultReverted(at=draw(times), fault=f"f{index}"))
    for _ in range(draw(st.integers(0, 3))):
        body.append(ProbeFailed(at=draw(times), probe="health"))
        body.append(ProbeRecovered(at=draw(times), probe="health"))
    for name in draw(st.lists(st.sampled_from(["A", "B"]), max_size=4)):
        status = draw(st.sampled_from(["firing", "resolved"]))
        body.append(Alert(at=draw(times), name=name, status=status))
    for _ in range(draw(st.integers(0, 8))):
        actor, role = draw(st.sampled_from(PEOPLE))
        name = draw(st.sampled_from(MILESTONES))
        source = draw(st.sampled_from(SOURCES))
        body.append(Milestone(at=draw(times), name=name, actor=actor, role=role, source=source))
    for number in range(draw(st.integers(0, 3))):
        actor, role = draw(st.sampled_from(PEOPLE))
        for status in draw(st.lists(st.sampled_from(["failed", "sent"]), min_size=1, max_size=3)):
            failed = ["x@example.com"] if status == "sent" and draw(st.booleans()) else []
            body.append(
                Notification(
                    at=draw(times),
                    notice=f"n{number}",
                    status=status,
                    sender=actor,
                    role=role,
                    failed=failed,
                )
            )
    for actor, role in draw(st.lists(st.sampled_from(PEOPLE), max_size=3)):
        body.append(ParticipantJoined(at=draw(times), actor=actor, role=role))
    end = draw(times)
    body.append(DrillAborted(at=end, reason="stop") if draw(st.booleans()) else DrillEnded(at=end))
    return [event.model_copy(update={"seq": n}) for n, event in enumerate(body, 1)]


def _card(record: list[Event]) -> Scorecard:
    return score(SCENARIO, record)


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(events())
def test_no_timing_is_negative_and_no_objective_is_met_before_t0(record: list[Event]) -> None:
    card = _card(record)
    for m in card.milestones.values():
        for timing in [m.headline(), *m.per_role.values(), *m.per_person.values()]:
            assert timing.seconds is None or timing.seconds >= 0
            assert not timing.before_t0 or timing.seconds is None
        if m.objective is not None and m.objective.met:
            assert m.objective.timing is not None and not m.objective.timing.before_t0
            assert m.objective.seconds is not None and m.objective.seconds >= 0


@SETTINGS
@given(events())
def test_missed_only_once_the_deadline_passed(record: list[Event]) -> None:
    card = _card(record)
    for m in card.milestones.values():
        objective = m.objective
        if objective is None or objective.deadline_at is None:
            continue
        if objective.status == "missed" and objective.seconds is None:
            assert card.ended_at >= objective.deadline_at
        if objective.status == "open":
            assert card.ended_at < objective.deadline_at
            assert m.name not in {g.milestone for g in card.gaps}


@SETTINGS
@given(events())
def test_notice_based_customer_notified_agrees_with_the_notices_table(record: list[Event]) -> None:
    card = _card(record)
    notified = card.milestones["customer_notified"]
    sends = [e.at for e in record if isinstance(e, Notification) and e.status == "sent"]
    if notified.source == "notice":
        assert notified.at in sends
        assert notified.before_t0 == (notified.at is not None and notified.at < card.t0.at)
    every = [n.sent_at for n in card.notices if n.sent_at is not None]
    sent = [at for at in every if at >= card.t0.at]
    sent_in_time = [at for at in sent if at <= card.ended_at]
    if sent_in_time:
        assert not notified.censored
        assert notified.at is not None and notified.at <= min(sent_in_time)
    assert card.team_health.notices_sent == sum(1 for n in card.notices if n.sent_at is not None)


@SETTINGS
@given(events())
def test_every_attempt_failure_and_retry_is_counted(record: list[Event]) -> None:
    card = _card(record)
    attempts = [e for e in record if isinstance(e, Notification)]
    assert sum(n.attempts for n in card.notices) == len(attempts)
    failures = [e for e in attempts if e.status == "failed" or e.failed]
    assert sum(n.failures for n in card.notices) == len(failures)
    for notice in card.notices:
        assert notice.retries == max(0, notice.attempts - 1)
        assert notice.partial == (notice.status == "partial")


@SETTINGS
@given(events())
def test_staffing_gaps_agree_with_who_acted(record: list[Event]) -> None:
    card = _card(record)
    for gap in card.gaps:
        if gap.kind == "understaffed" and gap.role is not None:
            assert len(card.team_health.people.get(gap.role, [])) == gap.count


@SETTINGS
@given(events())
def test_fault_bars_end_when_the_fault_ended(record: list[Event]) -> None:
    card = _card(record)
    ends = {run.fault: run.ended_at for run in card.faults}
    for entry in card.timeline:
        if entry.kind == "fault.injected" and entry.lane == "fault":
            assert entry.until == ends[entry.subject]
            assert entry.until is not None
            assert entry.until >= entry.at or entry.until == card.ended_at
