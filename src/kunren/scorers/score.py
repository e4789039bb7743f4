"""``score(scenario, events) -> Scorecard``: the one pure function from a drill record to its score.

No I/O and no clock: the same record always gives the same Scorecard, whether the drill ran
live, was resumed, or was typed in afterwards with ``kunren import``. Plugins (team-local or
installed scorers) run after the built-in scoring and may read its result.
"""

from __future__ import annotations

from collections.abc import Sequence

from kunren.errors import PluginError
from kunren.record.events import Event
from kunren.record.timeline import drill_provenance
from kunren.scenarios.models import Scenario
from kunren.scorers import notice_quality, people, system
from kunren.scorers.base import Scorer, ScoringContext
from kunren.scorers.card import PluginScore, ScenarioSummary, Scorecard, ScorerResult
from kunren.scorers.milestones import MilestoneScorer
from kunren.scorers.record import DrillRecord, prepare


def score(
    scenario: Scenario,
    events: list[Event],
    plugins: Sequence[Scorer | type[Scorer]] = (),
    *,
    timeline: bool = True,
) -> Scorecard:
    """Score one drill record against its scenario; ``plugins`` add their own sections.

    ``timeline=False`` leaves out the merged timeline (the costly part of a long record),
    for drills that only feed a trend.
    """
    record = prepare(scenario, events)
    card = _builtin(record, timeline)
    if not plugins:
        return card
    ctx = ScoringContext(record=record, card=card)
    return card.model_copy(update={"scorers": [_run(plugin, ctx) for plugin in plugins]})


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


def _run(plugin: Scorer | type[Scorer], ctx: ScoringContext) -> PluginScore:
    name = plugin.display_name()
    try:
        instance = plugin() if isinstance(plugin, type) else plugin
        result = instance.score(ctx)
    except Exception as exc:  # a plugin is foreign code: its failure is translated here
        raise PluginError(f"scorer {name} failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(result, ScorerResult):
        raise PluginError(
            f"scorer {name} returned {type(result).__name__}, expected a ScorerResult"
        )
    return PluginScore(scorer=name, metrics=result.metrics, findings=result.findings)
