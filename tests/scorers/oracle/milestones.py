"""The milestone scoring of the oracle (see ``oracle/score.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from kunren.record.events import Milestone, Notification
from kunren.scorers.card import (
    MilestoneResult,
    ObjectiveResult,
    ObjectiveStatus,
    Timing,
)
from kunren.scorers.display import BEFORE_T0, format_timing
from tests.scorers.oracle.record import DrillRecord

NOTIFIED = "customer_notified"


@dataclass(frozen=True)
class Reach:
    """Someone reached a milestone at drill time ``at``."""

    name: str
    at: float
    actor: str
    role: str | None
    source: str
    seq: int


class MilestoneScorer:
    """Milestone timings per role and person, held against the scenario's objectives."""

    def milestones(self, record: DrillRecord) -> dict[str, MilestoneResult]:
        reaches = reaches_of(record)
        names = list(record.scenario.milestone_names)
        names += [r.name for r in reaches if r.name not in names]
        names = list(dict.fromkeys(names))
        return {
            name: self._result(record, name, [r for r in reaches if r.name == name])
            for name in names
        }

    def _result(self, record: DrillRecord, name: str, reaches: list[Reach]) -> MilestoneResult:
        scenario = record.scenario
        expected = expected_roles(record, name)
        timing = _timing(record, _first(record, reaches))
        reached_roles = {r.role for r in reaches if r.role and r.at >= record.t0.at}
        per_role: dict[str, Timing] = {}
        per_person: dict[str, Timing] = {}
        for role in dict.fromkeys(r.role for r in reaches if r.role):
            per_role[role] = _timing(record, _first(record, [r for r in reaches if r.role == role]))
        for actor in dict.fromkeys(r.actor for r in reaches):
            mine = [r for r in reaches if r.actor == actor]
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
    """Every milestone reached before the drill ended, in drill-time order."""
    reaches: list[Reach] = []
    for event in record.events:
        if record.ended != "running" and event.at > record.end:
            continue  # marked after the end: a late mark is not a time the drill achieved
        if isinstance(event, Milestone):
            role = record.role_of(event.actor, event.role)
            reaches.append(Reach(event.name, event.at, event.actor, role, event.source, event.seq))
        elif isinstance(event, Notification) and event.status == "sent":
            # a partial send still told customers; a failed one did not
            actor = event.sender or "unknown"
            role = record.role_of(actor, event.role)
            reaches.append(Reach(NOTIFIED, event.at, actor, role, "notice", event.seq))
    return reaches


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
