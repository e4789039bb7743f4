"""What the live console's status line says of the drill so far: T0 and each objective.

The status line is redrawn many times a second, and a company-wide drill records tens of
thousands of events; scoring the whole record for every new event (what ``progress`` does) is
quadratic in the drill's length. ``ProgressTracker`` keeps the answer as running state and
updates it per event, in constant time for the events that come by the thousand (load
statistics, probe checks, notes: nothing; a mark or a notice: one comparison per objective).

It keeps the scorer's rules, not rules of its own: T0 is the first ``fault.injected`` (or
``probe.failed``, by the scenario's ``t0``) in drill-time order, an objective is met by the
first reach of its ``by`` roles at or after T0, a reach after the drill's end does not count,
a person's role is the one they last joined as (else the first they marked as), and an
amendment moves a time everywhere. An event that can change what came before (an amendment,
the end, an earlier T0, a role learnt for someone who marked without one) replays the kept
events; those are rare. ``progress`` (the scorer itself) remains the reference, and the tests
hold the two equal after every event of recorded drills.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kunren.record.events import (
    Amendment,
    DrillAborted,
    DrillEnded,
    Event,
    FaultInjected,
    Milestone,
    Notification,
    ParticipantJoined,
    ProbeFailed,
)

if TYPE_CHECKING:
    from kunren.scenarios.models import Objective, Scenario

NOTIFIED = "customer_notified"  # a notice sent counts as this milestone (kunren.scorers)
Key = tuple[float, int]  # (drill time, seq): the scorer's order of events
_KEPT = (
    Amendment,
    DrillAborted,
    DrillEnded,
    FaultInjected,
    Milestone,
    Notification,
    ParticipantJoined,
    ProbeFailed,
)


@dataclass(frozen=True)
class ObjectiveState:
    """One objective as the status line shows it."""

    name: str
    within: float
    met_after: float | None  # seconds from T0 when met
    missed: bool  # the record already shows it missed (reached late)


@dataclass(frozen=True)
class Progress:
    """What the record says so far."""

    t0: float | None  # None until the first fault (or impact) gives T0
    objectives: tuple[ObjectiveState, ...]


def progress(scenario: Scenario, events: list[Event]) -> Progress:
    """T0 and each objective's state, by the scorer itself (one timing model): the whole
    record, once (``kunren log`` and the end of a run; the live console keeps a tracker)."""
    from kunren.scorers import score

    card = score(scenario, events, timeline=False)
    t0 = None if card.t0.basis == "drill_start" else card.t0.at
    states = []
    for name, result in card.milestones.items():
        objective = result.objective
        if objective is None:
            continue
        met_after = objective.seconds if objective.met else None
        missed = objective.seconds is not None and not objective.met
        states.append(ObjectiveState(name, objective.within_seconds, met_after, missed))
    return Progress(t0, tuple(states))


@dataclass(frozen=True)
class _Reach:
    name: str
    key: Key
    actor: str
    role: str | None  # as recorded; None: the person's role from the record


class ProgressTracker:
    """``progress`` kept up to date one event at a time (see the module docstring)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        names = scenario.milestone_names
        self._goals: list[tuple[str, Objective]] = [
            (name, scenario.objectives[name]) for name in names if name in scenario.objectives
        ]
        # an objective on a milestone the scenario does not name (a snapshot that skipped the
        # checks) is ordered by when it is first reached: then the scorer is asked each time
        self._scorer_only = len(self._goals) != len(scenario.objectives)
        self._kept: list[Event] = []
        self._all: list[Event] = []  # only while _scorer_only
        self._last_seq = 0
        self._stale = False
        self._reset()

    def _reset(self) -> None:
        self._first_fault: Key | None = None
        self._impact: Key | None = None
        self._end: Key | None = None
        self._joined: dict[str, tuple[Key, str]] = {}  # actor -> last join
        self._marked: dict[str, tuple[Key, str]] = {}  # actor -> first mark with a role
        self._roleless: defaultdict[str, list[_Reach]] = defaultdict(list)
        self._best: dict[str, Key | None] = {name: None for name, _ in self._goals}

    # ------------------------------------------------------------------ reading

    @property
    def progress(self) -> Progress:
        if self._scorer_only:
            return progress(self.scenario, self._all)
        if self._stale:
            self._replay()
        t0 = self._t0()
        at = t0[0] if t0 is not None else 0.0
        states = []
        for name, objective in self._goals:
            best = self._best[name]
            seconds = round(best[0] - at, 3) if best is not None else None
            met = seconds is not None and seconds <= objective.within
            states.append(
                ObjectiveState(
                    name,
                    objective.within,
                    seconds if met else None,
                    seconds is not None and not met,
                )
            )
        return Progress(t0[0] if t0 is not None else None, tuple(states))

    # ------------------------------------------------------------------ one event

    def add(self, event: Event) -> None:
        """Take the next event of the record (in ``seq`` order; one already taken is ignored)."""
        if event.seq <= self._last_seq:
            return
        self._last_seq = event.seq
        if self._scorer_only:
            self._all.append(event)
            return
        if not isinstance(event, _KEPT):
            return
        self._kept.append(event)
        if not self._stale:
            self._stale = not self._take(event, (event.at, event.seq))

    def _take(self, event: Event, key: Key) -> bool:
        """Update the running state for ``event``; False when what came before must be
        looked at again (the events are then replayed)."""
        match event:
            case Amendment():
                return False
            case DrillEnded() | DrillAborted():
                return self._end is not None and key > self._end
            case FaultInjected() | ProbeFailed():
                t0 = self._t0()
                self._first_time(event, key)
                return self._t0() == t0
            case ParticipantJoined():
                before = self._role_of(event.actor)
                self._join(event.actor, key, event.role)
                return self._judged_alike(event.actor, before)
            case Milestone():
                if event.role:
                    before = self._role_of(event.actor)
                    self._mark(event.actor, key, event.role)
                    if not self._judged_alike(event.actor, before):
                        return False
                self._reach(_Reach(event.name, key, event.actor, event.role or None))
                return True
            case Notification():
                if event.status == "sent":
                    actor = event.sender or "unknown"
                    self._reach(_Reach(NOTIFIED, key, actor, event.role or None))
                return True
            case _:
                return True

    def _first_time(self, event: FaultInjected | ProbeFailed, key: Key) -> None:
        if isinstance(event, FaultInjected):
            if self._first_fault is None or key < self._first_fault:
                self._first_fault = key
        elif self._impact is None or key < self._impact:
            self._impact = key

    def _t0(self) -> Key | None:
        order = (
            (self._impact, self._first_fault)
            if self.scenario.t0 == "impact"
            else (self._first_fault, self._impact)
        )
        return next((key for key in order if key is not None), None)

    def _role_of(self, actor: str) -> str | None:
        joined = self._joined.get(actor)
        if joined is not None:
            return joined[1]
        marked = self._marked.get(actor)
        return marked[1] if marked is not None else None

    def _judged_alike(self, actor: str, before: str | None) -> bool:
        """False when ``actor``'s role changed from ``before`` and they reached milestones
        without one: those reaches must be judged again, by the new role."""
        return self._role_of(actor) == before or not self._roleless.get(actor)

    def _join(self, actor: str, key: Key, role: str) -> None:
        last = self._joined.get(actor)
        if last is None or key > last[0]:
            self._joined[actor] = (key, role)

    def _mark(self, actor: str, key: Key, role: str) -> None:
        first = self._marked.get(actor)
        if first is None or key < first[0]:
            self._marked[actor] = (key, role)

    def _reach(self, reach: _Reach) -> None:
        if reach.role is None:
            self._roleless[reach.actor].append(reach)
        if self._end is not None and reach.key[0] > self._end[0]:
            return  # marked after the end: not a time the drill achieved
        if reach.name not in self._best:
            return
        objective = self.scenario.objectives[reach.name]
        role = reach.role or self._role_of(reach.actor)
        t0 = self._t0()
        if objective.by and role not in objective.by:
            return
        if reach.key[0] < (t0[0] if t0 is not None else 0.0):
            return
        best = self._best[reach.name]
        if best is None or reach.key < best:
            self._best[reach.name] = reach.key

    # ------------------------------------------------------------------ replaying

    def _replay(self) -> None:
        """Everything kept, again, the way the scorer reads it: amendments applied, in
        drill-time order, T0, the end and everyone's role first, then the reaches."""
        self._reset()
        events = _amended(self._kept)
        for event, key in events:
            match event:
                case DrillEnded() | DrillAborted():
                    if self._end is None or key < self._end:
                        self._end = key
                case FaultInjected() | ProbeFailed():
                    self._first_time(event, key)
                case ParticipantJoined():
                    self._join(event.actor, key, event.role)
                case Milestone() if event.role:
                    self._mark(event.actor, key, event.role)
                case _:
                    pass
        for event, key in events:
            match event:
                case Milestone():
                    self._reach(_Reach(event.name, key, event.actor, event.role or None))
                case Notification() if event.status == "sent":
                    actor = event.sender or "unknown"
                    self._reach(_Reach(NOTIFIED, key, actor, event.role or None))
                case _:
                    pass
        self._stale = False


def _amended(events: list[Event]) -> list[tuple[Event, Key]]:
    """``events`` with amended times (a later amendment of one event wins), in the scorer's
    order; an amendment of an event not kept here changes nothing the status line shows."""
    by_seq = {event.seq: event for event in events}
    new_at: dict[int, float] = {}
    for event in events:
        if isinstance(event, Amendment):
            target = by_seq.get(event.target_seq)
            if target is not None and not isinstance(target, Amendment):
                new_at[event.target_seq] = event.new_at
    keyed = [(event, (new_at.get(event.seq, event.at), event.seq)) for event in events]
    keyed.sort(key=lambda pair: pair[1])
    return keyed
