"""The drill record as the scorer sees it: amendments applied, T0 and the end found.

Everything downstream (milestones, machine timings, notices, plugins) reads this one view, so
a facilitator's amendment moves a time everywhere at once, and the recorded time is kept beside
it for the report. ``kunren.scorers.tally`` builds it in one pass over the record.

A long record is mostly a few kinds of event, each of them many times over (alerts, notices,
marks, notes, runbooks, load statistics). Those are not kept as events: the pass keeps what
the scorecard needs of them (each milestone reach, each notice's first and latest states, the
changes of each alert, a slim timeline ``Mark``…), in drill-time order, and ``events`` holds
the rest. Scoring with plugins keeps every event there too (``ScoringContext.events``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from kunren.record.events import (
    DrillStarted,
    Event,
    FaultInjected,
    Milestone,
    Notification,
    ProbeFailed,
    Readiness,
    Runbook,
)
from kunren.record.marks import Mark
from kunren.record.timeline import DrillProvenance
from kunren.scenarios.models import Scenario
from kunren.scorers.card import T0, AmendmentItem, LoadPoint, NoteItem
from kunren.scorers.display import format_timing

Ending = Literal["ended", "aborted", "running"]
_TABLETOP = DrillProvenance(kind="tabletop", clock="real")  # frozen: one default for all


class Reach(NamedTuple):
    """Someone reached a milestone at drill time ``at`` (``role`` as recorded: the scorer
    fills in the role the actor joined as). A tuple: a long record has many of them."""

    name: str
    at: float
    actor: str
    role: str | None
    source: str
    seq: int


@dataclass(frozen=True, slots=True)
class NoticeEvents:
    """One customer notice's events, folded: its first drafted, approved and sent states,
    its latest state, and how many send attempts it had and how many of them failed."""

    key: str
    drafted: Notification | None
    approved: Notification | None
    sent: Notification | None
    latest: Notification
    attempts: int
    failures: int


class AlertChange(NamedTuple):
    """One recorded state of one alert (``key``: ``alerts.alert_key``); a tuple, as a long
    record's alerts are many."""

    at: float
    key: str
    status: str


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
    provenance: DrillProvenance = _TABLETOP
    reaches: list[Reach] = field(default_factory=list)
    notices: list[NoticeEvents] = field(default_factory=list)  # in order of first event
    # (actor, role as recorded) of everyone who marked, sent a notice or ran a runbook
    people: frozenset[tuple[str, str | None]] = frozenset()
    notes: list[NoteItem] = field(default_factory=list)
    alerts: list[AlertChange] = field(default_factory=list)
    load_stats: list[LoadPoint] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)  # empty when no timeline was asked for

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
