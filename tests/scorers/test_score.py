"""score(scenario, events): milestone timings, objectives, censoring, amendments, team health."""

from __future__ import annotations

import pytest

from kunren.record.events import (
    Alert,
    Amendment,
    DrillAborted,
    Milestone,
    Note,
    Notification,
    ParticipantJoined,
    ProbeFailed,
    ProbeRecovered,
    Readiness,
    Runbook,
)
from kunren.scorers import score
from tests.scorers.helpers import record, scenario


def test_first_time_by_anyone_by_role_and_by_person_counted_from_the_first_fault() -> None:
    events = record(
        Milestone(at=400, name="detected", actor="bob", role="support"),
        Milestone(at=200, name="detected", actor="erin", role="sre"),
        Milestone(at=300, name="detected", actor="alice", role="support"),
        fault_at=60,
    )
    detected = score(scenario(), events).milestones["detected"]
    assert (detected.seconds, detected.by, detected.role, detected.display) == (
        140,
        "erin",
        "sre",
        "2 min",
    )
    assert {role: t.by for role, t in detected.per_role.items()} == {
        "sre": "erin",
        "support": "alice",
    }
    assert {who: t.seconds for who, t in detected.per_person.items()} == {
        "erin": 140,
        "alice": 240,
        "bob": 340,
    }
    assert detected.objective is not None and detected.objective.met


def test_t0_can_be_impact_the_first_probe_failure() -> None:
    events = record(
        ProbeFailed(at=120, probe="shop"),
        Milestone(at=300, name="detected", actor="erin", role="sre"),
        fault_at=60,
    )
    card = score(scenario(t0="impact"), events)
    assert card.t0.basis == "impact"
    assert card.milestones["detected"].seconds == 180


def test_a_milestone_never_reached_is_censored_at_the_drill_length_and_fails_its_objective() -> (
    None
):
    card = score(scenario(), record())
    notified = card.milestones["customer_notified"]
    assert notified.seconds is None
    assert notified.censored
    assert notified.display == "60+ min"
    assert notified.objective is not None and not notified.objective.met
    assert not card.objectives_met
    assert card.objectives_missed == ["detected", "customer_notified"]


def test_a_drill_stopped_early_is_censored_at_the_window_observed_after_t0() -> None:
    events = record(DrillAborted(at=1500, reason="stop condition"), end=None, fault_at=300)
    card = score(scenario(), events)
    assert card.ended == "aborted"
    assert card.observed_seconds == 1200
    assert card.milestones["detected"].display == "20+ min"
    assert card.milestones["detected"].bound_seconds == 1200


def test_censoring_counts_only_the_minutes_observed_after_a_later_t0() -> None:
    card = score(scenario(), record(fault_at=300))
    assert card.milestones["customer_notified"].display == "55+ min"
    assert card.milestones["customer_notified"].seconds is None


def test_a_sent_notification_counts_as_customer_notified_for_its_sender() -> None:
    events = record(
        Notification(at=900, notice="n1", status="drafted", sender="alice", role="support"),
        Notification(at=1200, notice="n1", status="approved", approver="frank"),
        Notification(
            at=1260,
            notice="n1",
            status="sent",
            sender="alice",
            role="support",
            channel="email",
            audience="all",
            recipients=1200,
        ),
    )
    card = score(scenario(), events)
    notified = card.milestones["customer_notified"]
    assert (notified.seconds, notified.by, notified.role, notified.source) == (
        1260,
        "alice",
        "support",
        "notice",
    )
    assert notified.objective is not None and notified.objective.met
    (notice,) = card.notices
    assert (notice.approval_wait_seconds, notice.approver, notice.recipients) == (
        300,
        "frank",
        1200,
    )
    assert [(w.notice, w.display) for w in card.approval_waits] == [("n1", "5 min")]


def test_an_objective_by_a_role_counts_only_that_role() -> None:
    events = record(
        Notification(at=600, notice="n1", sender="erin", role="sre"),
        Notification(at=2400, notice="n2", sender="bob", role="support"),
    )
    notified = score(scenario(), events).milestones["customer_notified"]
    assert notified.by == "erin"
    assert notified.seconds == 600
    assert notified.objective is not None
    assert (notified.objective.seconds, notified.objective.met) == (2400, False)


def test_amendments_move_the_time_and_keep_the_recorded_one() -> None:
    events = record(
        Milestone(at=840, name="detected", actor="dave", role="sre"),
        Milestone(at=600, name="detected", actor="bob", role="support"),
    )
    dave_seq = events[2].seq
    events.append(Amendment(seq=99, at=3700, target_seq=dave_seq, new_at=240, reason="late mark"))
    card = score(scenario(), events)
    detected = card.milestones["detected"]
    assert (detected.by, detected.seconds, detected.recorded_seconds) == ("dave", 240, 840)
    assert detected.objective is not None and detected.objective.met
    (amendment,) = card.amendments
    assert (amendment.what, amendment.recorded_at, amendment.amended_at) == (
        "detected by dave",
        840,
        240,
    )
    entry = next(e for e in card.timeline if e.seq == dave_seq)
    assert (entry.at, entry.recorded_at) == (240, 840)


def test_an_amendment_of_a_missing_event_is_a_warning_not_a_crash() -> None:
    events = record()
    events.append(Amendment(seq=99, at=10, target_seq=42, new_at=5))
    card = score(scenario(), events)
    assert card.amendments == []
    assert card.warnings == [
        "amendment #99 names event #42, which is not in the record; it was ignored"
    ]


def test_marks_after_the_drill_ended_do_not_count() -> None:
    events = record(Milestone(at=3700, name="detected", actor="bob", role="support"))
    events[-1], events[-2] = events[-2], events[-1]  # drill.ended first, the late mark after
    events = [e.model_copy(update={"seq": n}) for n, e in enumerate(events, 1)]
    assert score(scenario(), events).milestones["detected"].censored


def test_machine_timings_impact_alert_and_recovery_of_every_probe() -> None:
    events = record(
        ProbeFailed(at=70, probe="shop"),
        Alert(at=100, name="ShopDown"),
        ProbeFailed(at=130, probe="search"),
        ProbeRecovered(at=1000, probe="shop"),
        ProbeRecovered(at=1300, probe="search"),
        fault_at=60,
    )
    machine = score(scenario(), events).machine
    assert machine.impact is not None and machine.first_alert is not None
    assert (machine.impact.seconds, machine.first_alert.seconds) == (10, 40)
    assert machine.recovery is not None and machine.recovery.seconds == 1240


def test_machine_timings_without_impact_or_recovery() -> None:
    watched = scenario(probes=[{"id": "shop", "http": {"url": "http://127.0.0.1:1/"}}])
    card = score(watched, record())
    assert card.machine.impact is not None and card.machine.impact.display == "60+ min"
    assert card.machine.recovery is None  # nothing failed, nothing to recover from
    still_down = score(watched, record(ProbeFailed(at=30, probe="shop")))
    assert still_down.machine.recovery is not None
    assert still_down.machine.recovery.display == "60+ min"


def test_a_tabletop_drill_has_no_machine_timings() -> None:
    machine = score(scenario(), record()).machine
    assert (machine.impact, machine.first_alert, machine.recovery) == (None, None, None)


def test_team_health_counts_senders_and_flags_one_person_sending_everything() -> None:
    events = record(
        Notification(at=600, notice="n1", sender="alice", role="support"),
        Notification(at=1200, notice="n2", sender="alice", role="support"),
        Notification(at=1800, notice="n3", sender="alice", role="support"),
    )
    card = score(scenario(), events)
    health = card.team_health
    assert (health.notice_senders, health.notices_sent) == (1, 3)
    assert health.top_sender is not None
    assert (health.top_sender.sender, health.top_sender.share) == ("alice", 1.0)
    assert [g.text for g in card.gaps if g.kind == "single_sender"] == [
        "alice sent all 3 customer notices; nobody else did"
    ]


def test_shares_across_several_senders() -> None:
    events = record(
        Notification(at=600, notice="n1", sender="alice", role="support"),
        Notification(at=700, notice="n2", sender="bob", role="support"),
        Notification(at=800, notice="n3", sender="alice", role="support"),
        Notification(at=900, notice="n4", sender="carol", role="support", status="failed"),
    )
    health = score(scenario(), events).team_health
    assert [(s.sender, s.notices, s.share) for s in health.senders] == [
        ("alice", 2, 0.667),
        ("bob", 1, 0.333),
    ]


def test_a_role_an_objective_names_that_never_reached_it() -> None:
    # sre told the customers; support, whom the objective names, never did
    events = record(Notification(at=600, notice="n1", sender="erin", role="sre"))
    card = score(scenario(), events)
    notified = card.milestones["customer_notified"]
    assert (notified.display, notified.expected_roles, notified.roles_missed) == (
        "10 min",
        ["support"],
        ["support"],
    )
    assert notified.per_role["support"].display == "60+ min"
    assert [(m.role, m.milestone) for m in card.team_health.roles_missed] == [
        ("support", "customer_notified")
    ]
    assert [g.text for g in card.gaps] == [
        "detected: not reached in the 60 min observed, objective 5 min",
        "customer_notified by support: not reached in the 60 min observed, objective 30 min",
    ]


def test_role_comes_from_joining_when_a_mark_has_none() -> None:
    events = record(
        ParticipantJoined(at=0, actor="bob", role="support"),
        Milestone(at=100, name="detected", actor="bob"),
    )
    assert score(scenario(), events).milestones["detected"].role == "support"


def test_readiness_notes_action_items_and_runbook_failures_become_findings() -> None:
    events = record(
        Readiness(
            at=0,
            actor="carol",
            role="support",
            tool="Status page admin",
            ok=False,
            note="no account",
        ),
        Readiness(at=0, actor="bob", role="support", tool="Status page admin", ok=True),
        Note(at=100, text="Action: give carol an account", actor="frank"),
        Note(at=200, text="the wiki page was outdated", actor="bob"),
        Runbook(at=300, runbook="add-capacity", actor="bob", role="support", result="refused"),
    )
    card = score(scenario(), events)
    assert [(r.actor, r.ok) for r in card.readiness] == [("carol", False), ("bob", True)]
    assert [a.text for a in card.action_items] == ["give carol an account"]
    assert [n.text for n in card.notes] == ["the wiki page was outdated"]
    kinds = {g.kind: g.text for g in card.gaps}
    assert kinds["lacked_access"] == "carol (support) could not open Status page admin (no account)"
    assert kinds["runbook_failed"] == "runbook add-capacity by bob refused"


def test_understaffed_roles_are_found_only_when_people_joined_through_kunren() -> None:
    assert not [g for g in score(scenario(), record()).gaps if g.kind == "understaffed"]
    events = record(ParticipantJoined(at=0, actor="bob", role="support"))
    gaps = [g.text for g in score(scenario(), events).gaps if g.kind == "understaffed"]
    assert gaps == [
        "sre: 0 took part, the scenario needs at least 1",
        "support: 1 took part, the scenario needs at least 2",
    ]


def test_custom_milestones_and_unknown_names_in_the_record_are_scored() -> None:
    spec = scenario(
        milestones={"status_page_updated": {"label": "Status page", "roles": "support"}}
    )
    events = record(
        Milestone(at=600, name="status_page_updated", actor="carol", role="support"),
        Milestone(at=700, name="coffee_made", actor="dave", role="sre"),
    )
    card = score(spec, events)
    assert list(card.milestones)[-2:] == ["status_page_updated", "coffee_made"]
    assert card.milestones["status_page_updated"].label == "Status page"
    assert card.milestones["status_page_updated"].expected_roles == []  # who may mark, not must
    assert card.milestones["coffee_made"].display == "12 min"


def test_a_record_still_running_is_censored_at_its_last_event() -> None:
    events = record(Milestone(at=900, name="detected", actor="bob", role="support"), end=None)
    card = score(scenario(), events)
    assert card.ended == "running"
    assert card.milestones["customer_notified"].display == "15+ min"


def test_score_is_pure_the_same_record_gives_the_same_card() -> None:
    events = record(Milestone(at=100, name="detected", actor="bob", role="support"))
    assert score(scenario(), events) == score(scenario(), list(reversed(events)))


@pytest.mark.parametrize("missing", ["drill.started"])
def test_a_record_without_drill_started_still_scores_with_a_warning(missing: str) -> None:
    events = [e for e in record() if e.type != missing]
    card = score(scenario(), events)
    assert card.series == "web-outage"
    assert "the record has no drill.started event" in card.warnings


def test_roles_of_one_objective_share_it_any_one_of_them_will_do() -> None:
    spec = scenario(objectives={"triaged": {"within": "15m", "by": ["sre", "commander"]}})
    done = score(spec, record(Milestone(at=600, name="triaged", actor="erin", role="sre")))
    assert done.milestones["triaged"].roles_missed == []
    assert done.team_health.roles_missed == []
    nobody = score(spec, record())
    assert nobody.milestones["triaged"].roles_missed == ["sre", "commander"]


def test_recovery_is_when_the_system_was_well_again_for_good() -> None:
    events = record(
        ProbeFailed(at=300, probe="search"),
        ProbeRecovered(at=900, probe="search"),
        ProbeFailed(at=1200, probe="shop"),
        ProbeRecovered(at=1800, probe="shop"),
        fault_at=300,
    )
    recovery = score(scenario(), events).machine.recovery
    assert recovery is not None and (recovery.seconds, recovery.display) == (1500, "25 min")


def test_a_scorecard_without_timeline_keeps_every_timing() -> None:
    events = record(fault_at=300)
    full = score(scenario(), events)
    light = score(scenario(), events, timeline=False)
    assert light.timeline == []
    assert full.timeline != []
    assert light.milestones == full.milestones
    assert light.machine == full.machine


def test_a_probe_failing_before_t0_is_never_a_negative_time_to_impact() -> None:
    """A probe that failed and recovered before T0 is not this drill's impact; one still
    failing at T0 reads "before T0", never "-3 min"."""
    recovered = record(
        ProbeFailed(at=20, probe="shop"),
        ProbeRecovered(at=40, probe="shop"),
        ProbeFailed(at=90, probe="shop"),
        fault_at=60,
    )
    machine = score(scenario(), recovered).machine
    assert machine.impact is not None and machine.impact.seconds == 30
    still_failing = record(ProbeFailed(at=20, probe="shop"), fault_at=60)
    impact = score(scenario(), still_failing).machine.impact
    assert impact is not None
    assert (impact.seconds, impact.before_t0, impact.display) == (None, True, "before T0")
