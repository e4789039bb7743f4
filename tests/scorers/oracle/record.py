"""The oracle's the drill record (see ``oracle/score.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from kunren.record.events import (
    Amendment,
    DrillAborted,
    DrillEnded,
    DrillStarted,
    Event,
    FaultInjected,
    Milestone,
    Notification,
    ParticipantJoined,
    ProbeFailed,
    Readiness,
    Runbook,
)
from kunren.scenarios.models import Scenario
from kunren.scorers.card import T0, AmendmentItem
from kunren.scorers.display import format_timing

Ending = Literal["ended", "aborted", "running"]


@dataclass(frozen=True)
class DrillRecord:
    """A drill's events after amendments, in drill-time order, with T0 and the end."""

    scenario: Scenario
    events: list[Event]
    started: DrillStarted | None
    t0: T0
    end: float
    ended: Ending
    end_reason: str
    recorded_at: dict[int, float] = field(default_factory=dict)  # seq -> time before amendment
    amendments: list[AmendmentItem] = field(default_factory=list)
    roles_of: dict[str, str] = field(default_factory=dict)  # actor -> role they joined as
    warnings: list[str] = field(default_factory=list)

    @property
    def drill(self) -> str:
        return self.started.drill if self.started else ""

    @property
    def series(self) -> str:
        return self.started.scenario_id if self.started else self.scenario.id

    def since_t0(self, at: float) -> float:
        return round(at - self.t0.at, 3)

    @property
    def window(self) -> float:
        """The observed window, T0 to the end: the bound of a censored timing. A milestone
        not reached in a drill watched for 27 minutes after T0 is "27+ min", never the
        scenario's full length."""
        return max(0.0, round(self.end - self.t0.at, 3))

    def deadline_passed(self, within: float) -> bool:
        """Was the drill still being watched when T0 + ``within`` came? Only then can an
        objective not reached be called missed."""
        return self.end >= self.t0.at + within

    @property
    def imported(self) -> bool:
        return self.started is not None and self.started.source == "import"

    def role_of(self, actor: str, role: str | None) -> str | None:
        return role or self.roles_of.get(actor)

    def censored_display(self, lang: str = "en") -> str:
        return format_timing(self.window, censored=True, lang=lang)


def prepare(scenario: Scenario, events: list[Event]) -> DrillRecord:
    """Apply amendments over the recorded times and find T0 and the drill's end."""
    ordered = sorted(events, key=lambda e: e.seq)
    amended, recorded_at, amendments, warnings = _apply_amendments(ordered)
    amended.sort(key=lambda e: (e.at, e.seq))
    started = next((e for e in amended if isinstance(e, DrillStarted)), None)
    end, ended, reason = _end(scenario, amended, started)
    return DrillRecord(
        scenario=scenario,
        events=amended,
        started=started,
        t0=_t0(scenario, amended),
        end=end,
        ended=ended,
        end_reason=reason,
        recorded_at=recorded_at,
        amendments=amendments,
        roles_of=_roles_of(amended),
        warnings=warnings,
    )


def _apply_amendments(
    events: list[Event],
) -> tuple[list[Event], dict[int, float], list[AmendmentItem], list[str]]:
    by_seq = {e.seq: e for e in events}
    new_at: dict[int, float] = {}
    items: list[AmendmentItem] = []
    warnings: list[str] = []
    for event in events:
        if not isinstance(event, Amendment):
            continue
        target = by_seq.get(event.target_seq)
        if target is None or isinstance(target, Amendment):
            warnings.append(
                f"amendment #{event.seq} names event #{event.target_seq}, which is not in the "
                "record; it was ignored"
            )
            continue
        new_at[event.target_seq] = event.new_at  # a later amendment of the same event wins
        items.append(
            AmendmentItem(
                seq=event.seq,
                target_seq=event.target_seq,
                what=describe(target),
                recorded_at=target.at,
                amended_at=event.new_at,
                actor=event.actor,
                reason=event.reason,
            )
        )
    result = [e.model_copy(update={"at": new_at[e.seq]}) if e.seq in new_at else e for e in events]
    recorded = {seq: by_seq[seq].at for seq in new_at}
    return result, recorded, items, warnings


def describe(event: Event) -> str:
    """A short English name for an event, used where an amendment or a gap refers to it."""
    if isinstance(event, Milestone):
        return f"{event.name} by {event.actor}"
    if isinstance(event, Notification):
        return f"notice {event.notice or event.seq} {event.status} by {event.sender}".strip()
    if isinstance(event, FaultInjected):
        return f"fault {event.fault} injected"
    if isinstance(event, ProbeFailed):
        return f"probe {event.probe} failed"
    if isinstance(event, Runbook):
        return f"runbook {event.runbook} by {event.actor}"
    if isinstance(event, Readiness):
        return f"readiness of {event.actor} for {event.tool}"
    return event.type


def _t0(scenario: Scenario, events: list[Event]) -> T0:
    first_fault = next((e.at for e in events if isinstance(e, FaultInjected)), None)
    impact = next((e.at for e in events if isinstance(e, ProbeFailed)), None)
    order = (
        (("impact", impact), ("first_fault", first_fault))
        if scenario.t0 == "impact"
        else (("first_fault", first_fault), ("impact", impact))
    )
    for basis, at in order:
        if at is not None:
            return T0(at=at, basis=basis)
    return T0(at=0.0, basis="drill_start")


def _end(
    scenario: Scenario, events: list[Event], started: DrillStarted | None
) -> tuple[float, Ending, str]:
    for event in events:
        if isinstance(event, DrillEnded):
            return event.at, "ended", event.reason
        if isinstance(event, DrillAborted):
            return event.at, "aborted", event.reason
    # Still running (or the conductor died): the record so far is all we can speak for.
    last = max((e.at for e in events), default=0.0)
    duration = started.duration if started else scenario.duration
    return min(last, duration) if last else 0.0, "running", ""


def _roles_of(events: list[Event]) -> dict[str, str]:
    roles: dict[str, str] = {}
    for event in events:
        if isinstance(event, ParticipantJoined):
            roles[event.actor] = event.role
        elif isinstance(event, Milestone) and event.role:
            roles.setdefault(event.actor, event.role)
    return roles
