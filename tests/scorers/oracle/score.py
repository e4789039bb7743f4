"""The scorer as it was before it streamed (kunren 1fbbecb), kept as the oracle of
``test_streaming``: every event held as a model, sorted, then read by each section."""

from __future__ import annotations

from kunren.record.events import Event
from kunren.record.timeline import drill_provenance
from kunren.scenarios.models import Scenario
from kunren.scorers import notice_quality
from kunren.scorers.card import ScenarioSummary, Scorecard
from tests.scorers.oracle import people, system
from tests.scorers.oracle.milestones import MilestoneScorer
from tests.scorers.oracle.record import DrillRecord, prepare


def score(scenario: Scenario, events: list[Event], *, timeline: bool = True) -> Scorecard:
    """The scorecard as the scorer made it before it streamed (the oracle)."""
    return _builtin(prepare(scenario, events), timeline)


def _builtin(record: DrillRecord, with_timeline: bool = True) -> Scorecard:
    scenario = record.scenario
    milestones = MilestoneScorer().milestones(record)
    notices = people.notices(record)
    health = people.team_health(record, notices, milestones)
    readiness = people.readiness(record)
    faults = system.fault_runs(record)
    notes, actions = people.notes(record)
    missed = [n for n, m in milestones.items() if m.objective and m.objective.status == "missed"]
    still_open = [n for n, m in milestones.items() if m.objective and m.objective.status == "open"]
    warnings = list(record.warnings)
    if record.started is None:
        warnings.append("the record has no drill.started event")
    started = record.started
    return Scorecard(
        drill=record.drill,
        series=record.series,
        title=started.title if started and started.title else scenario.title,
        started=started.wall if started else "",
        source=started.source if started else "",
        duration=started.duration if started else scenario.duration,
        ended_at=record.end,
        ended=record.ended,
        end_reason=record.end_reason,
        t0=record.t0,
        observed_seconds=record.window,
        provenance=drill_provenance(record.events),
        objectives_met=not missed and not still_open,
        objectives_missed=missed,
        objectives_open=still_open,
        milestones=milestones,
        machine=system.machine_timings(record),
        team_health=health,
        scenario=ScenarioSummary(
            id=scenario.id,
            title=scenario.title,
            description=scenario.description,
            duration=scenario.duration,
            tags=list(scenario.tags),
            roles={name: role.min for name, role in scenario.roles.items()},
            checklist=notice_quality.checklist(scenario),
        ),
        faults=faults,
        injects=system.inject_items(record),
        notices=notices,
        approval_waits=people.approval_waits(notices),
        readiness=readiness,
        gaps=people.gaps(record, milestones, health, readiness, faults),
        notes=notes,
        action_items=actions,
        amendments=record.amendments,
        timeline=system.timeline(record, faults) if with_timeline else [],
        load=system.load_points(record),
        warnings=warnings,
    )
