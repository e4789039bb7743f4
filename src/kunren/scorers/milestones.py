"""Milestone timings: who reached each milestone first, per role and per person, against objectives.

This is the built-in scorer (entry point ``milestones``); ``score()`` always runs it, and its
results are the heart of the Scorecard. A ``notification`` that was sent counts as
``customer_notified`` for its sender, so a notice sent from the participant page needs no
separate mark. A milestone nobody reached before the drill ended is censored: it has no
seconds and shows the observed window (T0 to the end) with a plus ("27+ min"); its objective
is missed once the deadline passed, and "open" when the drill stopped before it. A mark before
T0 is shown as "before T0" and never meets an objective.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from kunren.scorers.base import Scorer, ScoringContext
from kunren.scorers.card import (
    MilestoneResult,
    ObjectiveResult,
    ObjectiveStatus,
    ScorerResult,
    Timing,
)
from kunren.scorers.display import BEFORE_T0, format_timing
from kunren.scorers.record import DrillRecord, Reach

NOTIFIED = "customer_notified"
_K = TypeVar("_K")


class MilestoneScorer(Scorer):
    """Milestone timings per role and person, held against the scenario's objectives."""

    name = "milestones"
    summary = "Milestone timings per role and person against the objectives (built in)"

    def score(self, ctx: ScoringContext) -> ScorerResult:
        metrics = [
            ctx.duration_metric(
                m.name,
                m.label,
                Timing(
                    seconds=m.seconds,
                    censored=m.censored,
                    bound_seconds=m.bound_seconds,
                    display=m.display,
                ),
            )
            for m in ctx.card.milestones.values()
        ]
        return ScorerResult(metrics=metrics)

    def milestones(self, record: DrillRecord) -> dict[str, MilestoneResult]:
        by_name: dict[str, list[Reach]] = {name: [] for name in record.scenario.milestone_names}
        for reach in reaches_of(record):
            by_name.setdefault(reach.name, []).append(reach)
        return {name: self._result(record, name, reaches) for name, reaches in by_name.items()}

    def _result(self, record: DrillRecord, name: str, reaches: list[Reach]) -> MilestoneResult:
        scenario = record.scenario
        expected = expected_roles(record, name)
        timing = _timing(record, _first(record, reaches))
        reached_roles = {r.role for r in reaches if r.role and r.at >= record.t0.at}
        per_role: dict[str, Timing] = {}
        per_person: dict[str, Timing] = {}
        for role, theirs in _grouped(reaches, lambda r: r.role).items():
            if role:
                per_role[role] = _timing(record, _first(record, theirs))
        for actor, mine in _grouped(reaches, lambda r: r.actor).items():
            per_person[actor] = _timing(record, _first(record, mine))
        for role in expected:
            per_role.setdefault(role, _timing(record, None))
        return MilestoneResult(
            name=name,
            label=scenario.milestone_label(name, "en"),
            label_ja=scenario.milestone_label(name, "ja"),
            seconds=timing.seconds,
            censored=timing.censored,
            bound_seconds=timing.bound_seconds,
            display=timing.display,
            at=timing.at,
            by=timing.by,
            role=timing.role,
            source=timing.source,
            recorded_seconds=timing.recorded_seconds,
            objective=_objective(record, name, reaches),
            expected_roles=expected,
            roles_missed=[r for r in expected if _missed(record, name, r, reached_roles)],
            per_role=per_role,
            per_person=per_person,
            before_t0=timing.before_t0,
        )


def reaches_of(record: DrillRecord) -> list[Reach]:
    """Every milestone reached before the drill ended, in drill-time order: each mark, and each
    notice sent (a partial send still told customers), with the role its actor joined as."""
    return [
        Reach(r.name, r.at, r.actor, record.role_of(r.actor, r.role), r.source, r.seq)
        for r in record.reaches
        # marked after the end: a late mark is not a time the drill achieved
        if record.ended == "running" or r.at <= record.end
    ]


def _grouped(reaches: list[Reach], by: Callable[[Reach], _K]) -> dict[_K, list[Reach]]:
    """``reaches`` by ``by``, each group in order, the groups in order of their first."""
    groups: dict[_K, list[Reach]] = {}
    for reach in reaches:
        groups.setdefault(by(reach), []).append(reach)
    return groups


def expected_roles(record: DrillRecord, name: str) -> list[str]:
    """The roles an objective names for ``name`` (``by:``): the only expectation a scenario states.

    A role's ``milestones:`` list and a custom milestone's ``roles:`` say who may mark it on the
    page, not who must; they are not expectations.
    """
    objective = record.scenario.objectives.get(name)
    return list(objective.by) if objective is not None else []


def _missed(record: DrillRecord, name: str, role: str, reached: set[str]) -> bool:
    """Did ``role`` miss ``name``? The roles of one objective share it: any one of them will do."""
    objective = record.scenario.objectives.get(name)
    return objective is not None and not reached.intersection(objective.by)


def _first(record: DrillRecord, reaches: list[Reach]) -> Reach | None:
    """The first reach at or after T0; failing that, the first before it (shown as such)."""
    counted = next((r for r in reaches if r.at >= record.t0.at), None)
    return counted if counted is not None else next(iter(reaches), None)


def _timing(record: DrillRecord, reach: Reach | None) -> Timing:
    if reach is not None and reach.at < record.t0.at:
        return Timing(
            seconds=None,
            display=BEFORE_T0["en"],
            at=reach.at,
            by=reach.actor,
            role=reach.role,
            before_t0=True,
            source=reach.source,
        )
    if reach is None:
        return Timing(
            seconds=None,
            censored=True,
            bound_seconds=record.window,
            display=record.censored_display(),
        )
    seconds = record.since_t0(reach.at)
    recorded = record.recorded_at.get(reach.seq)
    return Timing(
        seconds=seconds,
        display=format_timing(seconds),
        at=reach.at,
        by=reach.actor,
        role=reach.role,
        recorded_seconds=record.since_t0(recorded) if recorded is not None else None,
        source=reach.source,
    )


def _objective(record: DrillRecord, name: str, reaches: list[Reach]) -> ObjectiveResult | None:
    """Met by the first reach of its ``by`` roles at or after T0; a mark before T0 never
    meets it, and a milestone not reached is missed only once the deadline has passed."""
    objective = record.scenario.objectives.get(name)
    if objective is None:
        return None
    counted = [
        r for r in reaches if (not objective.by or r.role in objective.by) and r.at >= record.t0.at
    ]
    first = counted[0] if counted else None
    seconds = record.since_t0(first.at) if first is not None else None
    status: ObjectiveStatus
    if seconds is not None and seconds <= objective.within:
        status = "met"
    elif seconds is not None or record.deadline_passed(objective.within):
        status = "missed"
    else:
        status = "open"
    return ObjectiveResult(
        within_seconds=objective.within,
        by=list(objective.by),
        seconds=seconds,
        met=status == "met",
        status=status,
        deadline_at=round(record.t0.at + objective.within, 3),
        timing=_timing(record, first),
    )
