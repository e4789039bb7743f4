"""Issue 13's bugs, one test each: every number says what it measured, from which record, on
which clock and by whom, and the score never contradicts itself."""

from __future__ import annotations

from kunren.record.events import (
    Alert,
    DrillAborted,
    DrillStarted,
    Event,
    FaultInjected,
    Milestone,
    Notification,
    ParticipantJoined,
    ProbeFailed,
    ProbeRecovered,
)
from kunren.scorers import Scorecard, score, trend
from tests.scorers.helpers import record, runbook_restart, scenario

TRIAGE_BY_SRE = {
    "triaged": {"within": "10m", "by": "sre"},
    "customer_notified": {"within": "23m", "by": "support"},
}


def _by_objective_card() -> Scorecard:
    events = record(
        Milestone(at=120, name="triaged", actor="bob", role="support"),
        Milestone(at=180, name="triaged", actor="alice", role="sre"),
    )
    return score(scenario(objectives=TRIAGE_BY_SRE), events)


def test_a_by_objective_is_met_by_its_role_and_its_headline_is_that_time() -> None:
    triaged = _by_objective_card().milestones["triaged"]
    assert (triaged.by, triaged.display) == ("bob", "2 min")  # the first of anyone, as before
    assert triaged.objective is not None and triaged.objective.timing is not None
    held = triaged.objective.timing
    assert (held.by, held.role, held.display, held.seconds) == ("alice", "sre", "3 min", 180)
    assert triaged.headline().by == "alice"
    assert triaged.objective.status == "met"


def test_the_trend_uses_the_time_the_objective_s_roles_reached_it() -> None:
    first = _by_objective_card()
    later = first.model_copy(update={"drill": "d2", "started": "2024-01-01T00:00:00+00:00"})
    earlier = first.model_copy(update={"drill": "d1", "started": "2023-01-01T00:00:00+00:00"})
    line = next(x for x in trend([earlier, later]).lines if x.milestone == "triaged")
    assert [p.display for p in line.points] == ["3 min", "3 min"]


def test_a_mark_before_t0_is_before_t0_and_never_meets_its_objective() -> None:
    events = record(Milestone(at=297, name="detected", actor="sim-sre", role="sre"), fault_at=300)
    detected = score(scenario(), events).milestones["detected"]
    assert (detected.display, detected.before_t0, detected.seconds) == ("before T0", True, None)
    assert detected.objective is not None
    assert (detected.objective.met, detected.objective.status) == (False, "missed")


def test_a_mark_after_t0_counts_even_when_someone_marked_before_it() -> None:
    events = record(
        Milestone(at=297, name="detected", actor="sim-sre", role="sre"),
        Milestone(at=360, name="detected", actor="erin", role="sre"),
        fault_at=300,
    )
    detected = score(scenario(), events).milestones["detected"]
    assert (detected.display, detected.by) == ("1 min", "erin")
    assert detected.per_person["sim-sre"].before_t0
    assert detected.objective is not None and detected.objective.met


def test_a_trend_with_a_mark_before_t0_never_shows_a_negative_time() -> None:
    before = score(
        scenario(),
        record(Milestone(at=297, name="detected", actor="x", role="sre"), fault_at=300),
    ).model_copy(update={"drill": "d1", "started": "2023-01-01T00:00:00+00:00"})
    after = score(
        scenario(), record(Milestone(at=120, name="detected", actor="x", role="sre"))
    ).model_copy(update={"drill": "d2", "started": "2024-01-01T00:00:00+00:00"})
    line = next(x for x in trend([before, after]).lines if x.milestone == "detected")
    assert line.display == "before T0 → 2 min"
    assert line.change == "unknown"


def test_an_alert_firing_before_t0_is_left_out_of_time_to_first_alert() -> None:
    events = record(
        Alert(at=283, name="AlwaysFiring"),
        Alert(at=400, name="ShopDown"),
        ProbeFailed(at=310, probe="health"),
        fault_at=300,
    )
    machine = score(scenario(), events).machine
    assert machine.firing_at_t0 == ["AlwaysFiring"]
    assert machine.first_alert is not None
    assert (machine.first_alert.display, machine.first_alert.at) == ("2 min", 400)


def test_with_no_alert_in_the_record_there_is_no_time_to_alert_rather_than_60_plus() -> None:
    card = score(scenario(), record(ProbeFailed(at=10, probe="health")))
    assert card.machine.alert_source == "none"
    assert card.machine.first_alert is None
    assert card.faults[0].alert_status == "no_source"


def test_time_to_alert_per_fault_and_time_to_clear_after_the_revert() -> None:
    from kunren.record.events import FaultReverted

    events = record(
        Alert(at=60, name="ShopDown"),
        Alert(at=600, name="ShopDown", status="resolved"),
        FaultInjected(at=700, fault="search-500", kind="http.fault"),
        Alert(at=760, name="SearchErrors"),
        FaultReverted(at=900, fault="search-500"),
        Alert(at=960, name="SearchErrors", status="resolved"),
    )
    runs = {run.fault: run for run in score(scenario(), events).faults}
    assert runs["kill-web"].alert is not None
    assert (runs["kill-web"].alert.name, runs["kill-web"].alert.display) == ("ShopDown", "1 min")
    search = runs["search-500"].alert
    assert search is not None
    assert (search.name, search.seconds, search.clear_seconds) == ("SearchErrors", 60, 60)
    assert runs["search-500"].ended_by == "reverted"


def test_an_objective_whose_deadline_had_not_passed_at_an_abort_is_open_not_missed() -> None:
    events = record(DrillAborted(at=750, reason="aborted by the facilitator"), end=None)
    card = score(scenario(objectives=TRIAGE_BY_SRE), events)
    notified = card.milestones["customer_notified"]
    assert notified.objective is not None
    assert (notified.objective.status, notified.objective.met) == ("open", False)
    assert card.objectives_open == ["customer_notified"]
    assert card.objectives_missed == ["triaged"]  # its 10 min deadline passed at 10:00
    assert not [g for g in card.gaps if g.milestone == "customer_notified"]


def test_not_reached_is_bounded_by_the_minutes_observed_after_t0() -> None:
    events = record(DrillAborted(at=1800, reason="stop"), end=None, fault_at=180)
    card = score(scenario(duration="30m"), events)
    assert card.observed_seconds == 1620
    assert card.milestones["detected"].display == "27+ min"
    gap = next(g for g in card.gaps if g.milestone == "detected")
    assert gap.text == "detected: not reached in the 27 min observed, objective 5 min"


def test_a_drill_aborted_before_t0_is_left_out_of_the_trend() -> None:
    good = score(
        scenario(), record(Milestone(at=120, name="detected", actor="x", role="sre"))
    ).model_copy(update={"drill": "d1", "started": "2023-01-01T00:00:00+00:00"})
    failed = score(
        scenario(),
        record(DrillAborted(at=0.5, reason="could not start: port busy"), end=None, fault_at=None),
    ).model_copy(update={"drill": "d2", "started": "2024-01-01T00:00:00+00:00"})
    result = trend([good, failed])
    assert result.drills == ["d1"]
    assert result.not_comparable == ["d2"]
    assert next(x for x in result.lines if x.milestone == "detected").display == "2 min"


def test_a_failed_attempt_and_its_retry_are_counted() -> None:
    events = record(
        Notification(at=500, notice="n1", status="failed", sender="bob", role="support"),
        Notification(at=560, notice="n1", status="sent", sender="bob", role="support"),
    )
    notice = score(scenario(), events).notices[0]
    assert (notice.attempts, notice.failures, notice.retries, notice.status) == (2, 1, 1, "sent")


def test_a_partial_failure_is_partial_not_sent() -> None:
    events = record(
        Notification(
            at=500,
            notice="n1",
            status="sent",
            sender="bob",
            role="support",
            recipients=3,
            delivered=2,
            failed=["c@example.com"],
        )
    )
    card = score(scenario(), events)
    notice = card.notices[0]
    assert (notice.status, notice.partial, notice.failures) == ("partial", True, 1)
    # customers were still told: the milestone agrees with the notices table
    assert card.milestones["customer_notified"].display == "8 min"


def test_staffing_gaps_count_everyone_who_acted_in_the_role() -> None:
    events = record(
        ParticipantJoined(at=0, actor="erin", role="sre"),
        Notification(at=500, notice="n1", sender="bob", role="support"),
        Notification(at=520, notice="n2", sender="carol", role="support"),
    )
    card = score(scenario(), events)
    assert card.team_health.people["support"] == ["bob", "carol"]
    assert not [g for g in card.gaps if g.kind == "understaffed"]


def _runbook_record() -> list[Event]:
    return record(
        ProbeFailed(at=5, probe="health"),
        *runbook_restart(),
        ProbeRecovered(at=620, probe="health"),
    )


RUNBOOK_SCENARIO = {
    "targets": {"web": {"process": {"service": "web"}}},
    "faults": [{"id": "kill-web", "at": "0m", "kind": "process.kill", "target": "web"}],
    "runbooks": [
        {"id": "restart-web", "title": "Restart web", "kind": "process.restart", "target": "web"}
    ],
}


def test_a_runbook_is_the_team_s_action_and_the_fault_it_fixes_ends_there() -> None:
    card = score(scenario(**RUNBOOK_SCENARIO), _runbook_record())
    runs = {run.fault: run for run in card.faults}
    assert runs["runbook:restart-web"].runbook == "restart-web"
    assert (runs["kill-web"].ended_at, runs["kill-web"].ended_by) == (600, "restarted")
    lanes = {(e.kind, e.subject): e.lane for e in card.timeline}
    assert lanes[("fault.injected", "runbook:restart-web")] == "people"
    bar = next(e for e in card.timeline if e.kind == "fault.injected" and e.subject == "kill-web")
    assert bar.until == 600


def test_a_fault_with_nothing_to_undo_ends_when_the_system_is_well_again() -> None:
    events = record(ProbeFailed(at=5, probe="health"), ProbeRecovered(at=900, probe="health"))
    run = score(scenario(), events).faults[0]
    assert (run.ended_at, run.ended_by) == (900, "recovered")


def test_provenance_of_a_scaled_drill_with_simulated_people() -> None:
    events = record(Milestone(at=60, name="detected", actor="sim", role="sre", source="simulated"))
    events[0] = DrillStarted(
        seq=1, drill="d1", scenario_id="web-outage", duration=3600, clock="scaled", speed=40
    )
    card = score(scenario(), events)
    assert (card.provenance.kind, card.provenance.clock, card.provenance.speed) == (
        "live",
        "scaled",
        40,
    )
    assert card.provenance.simulated
    assert card.milestones["detected"].source == "simulated"
