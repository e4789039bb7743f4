"""``score(scenario, events) -> Scorecard``: the one pure function from a drill record to its score.

No I/O and no clock: the same record always gives the same Scorecard, whether the drill ran
live, was resumed, or was typed in afterwards with ``kunren import``. Plugins (team-local or
installed scorers) run after the built-in scoring and may read its result.

``events`` may be an iterator (``kunren.record.stream.iter_events``): the record is then read
once, line by line, and never held whole (see ``kunren.scorers.tally``); the caller passes its
amendments, found beforehand. ``timeline="marks"`` keeps the timeline as slim marks for the
HTML report (``Scorecard.entries()``) instead of a million models in ``Scorecard.timeline``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from kunren.errors import PluginError
from kunren.record.events import Amendment, Event
from kunren.scenarios.models import Scenario
from kunren.scorers import notice_quality, people, system
from kunren.scorers.base import Scorer, ScoringContext
from kunren.scorers.card import PluginScore, ScenarioSummary, Scorecard, ScorerResult
from kunren.scorers.milestones import MilestoneScorer
from kunren.scorers.record import DrillRecord
from kunren.scorers.tally import prepare

TimelineWanted = bool | Literal["marks"]


def score(
    scenario: Scenario,
    events: Iterable[Event],
    plugins: Sequence[Scorer | type[Scorer]] = (),
    *,
    timeline: TimelineWanted = True,
    amendments: Sequence[Amendment] | None = None,
) -> Scorecard:
    """Score one drill record against its scenario; ``plugins`` add their own sections.

    ``timeline=False`` leaves out the merged timeline (the costly part of a long record),
    for drills that only feed a trend; ``"marks"`` keeps it as marks (``entries()``).
    ``amendments``: the record's amendments when ``events`` streams (else found in it).
    """
    record = prepare(
        scenario, events, amendments, keep_all=bool(plugins), marks=timeline is not False
    )
    card = _builtin(record, timeline)
    if not plugins:
        return card
    ctx = ScoringContext(record=record, card=card)
    return card.model_copy(update={"scorers": [_run(plugin, ctx) for plugin in plugins]})


def _builtin(record: DrillRecord, with_timeline: TimelineWanted = True) -> Scorecard:
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
    card = Scorecard(
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
        provenance=record.provenance,
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
        timeline=system.timeline(record, faults) if with_timeline is True else [],
        load=system.load_points(record),
        warnings=warnings,
    )
    if with_timeline == "marks":
        card.keep_marks(system.timeline_marks(record, faults))
    return card


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
