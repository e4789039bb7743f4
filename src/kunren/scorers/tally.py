"""One pass over a drill record that keeps only what the scorecard needs: the ``DrillRecord``.

Holding a long record as models was the cost of a report: a million events of ~1.9 KB each,
ten times the record's size. The tally takes the events as they are read (``iter_events``)
and keeps, of each, what scoring reads later: the rare kinds (faults, probes, services,
stages, injects, joins, readiness, amendments, the drill's own events) whole, and of the
kinds a long record is made of only their part: a milestone's reach, a notice folded into its
notice, an alert's change of state, a note, a load point, the people who acted, a slim
timeline ``Mark``. Everything is put in drill-time order at the end, so the result is the one
scoring got when it sorted the whole record.

Order in the record does not matter to the folds: a notice's "first sent" and "latest" are
the smallest and largest (drill time, seq), and roles go to the actor's last join (else their
first mark with a role), as they did when every event was sorted first. Amendments must be
known before their targets stream past, so the caller gives them (``amendments_in``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import attrgetter
from typing import Protocol, TypeVar

from kunren.record.events import (
    Alert,
    Amendment,
    DrillAborted,
    DrillEnded,
    DrillStarted,
    Event,
    FaultInjected,
    LoadStats,
    Milestone,
    Note,
    Notification,
    ParticipantJoined,
    ProbeFailed,
    Readiness,
    Runbook,
)
from kunren.record.marks import Gist, Mark, Provenance
from kunren.record.timeline import TOUCHING, mark, mark_source, provenance_of
from kunren.scenarios.models import Scenario
from kunren.scorers.alerts import alert_key
from kunren.scorers.card import T0, AmendmentItem, LoadPoint, NoteItem
from kunren.scorers.milestones import NOTIFIED
from kunren.scorers.record import (
    AlertChange,
    DrillRecord,
    Ending,
    NoticeEvents,
    Reach,
    describe,
)

Key = tuple[float, int]  # (drill time, seq): the order of the sorted record

# Not on the timeline: intent and bookkeeping, the load line, the amendments table
_OFF_TIMELINE = ("fault.injecting", "fault.reverting", "service.started", "service.stopped")


def prepare(
    scenario: Scenario,
    events: Iterable[Event],
    amendments: Sequence[Amendment] | None = None,
    *,
    keep_all: bool = False,
    marks: bool = True,
) -> DrillRecord:
    """The scorer's view of ``events`` (in seq order, as the record holds them).

    ``amendments``: the record's amendments, needed up front when ``events`` is read as it
    streams; a list of events finds its own. ``keep_all`` keeps every event in
    ``DrillRecord.events`` (for plugins); ``marks`` builds the timeline's marks.
    """
    if amendments is None:
        events = sorted(events, key=attrgetter("seq"))
        amendments = sorted((e for e in events if isinstance(e, Amendment)), key=lambda e: e.seq)
    tally = _Tally(scenario, amendments, keep_all, marks)
    with _no_collection():
        for event in events:
            tally.add(event)
        return tally.record()


@contextmanager
def _no_collection() -> Iterator[None]:
    """The cyclic garbage collector paused while the pass runs, as it was before after.

    The pass makes a million objects that all live until the report is written, and none is
    ever part of a cycle; each full collection walks all of them again, which was a third
    of the report's time. Reference counting still frees every parsed event at once.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class _Notice:
    first: Key
    drafted: tuple[Key, Notification] | None = None
    approved: tuple[Key, Notification] | None = None
    sent: tuple[Key, Notification] | None = None
    latest: tuple[Key, Notification] | None = None
    attempts: int = 0
    failures: int = 0

    def add(self, key: Key, event: Notification) -> None:
        self.first = min(self.first, key)
        if self.latest is None or key > self.latest[0]:
            self.latest = (key, event)
        match event.status:
            case "drafted":
                self.drafted = _earlier(self.drafted, key, event)
            case "approved":
                self.approved = _earlier(self.approved, key, event)
            case "sent":
                self.sent = _earlier(self.sent, key, event)
            case _:
                pass
        if event.status in ("sent", "failed"):
            self.attempts += 1
            if event.status == "failed" or event.failed:
                self.failures += 1

    def folded(self, key: str) -> NoticeEvents:
        assert self.latest is not None
        return NoticeEvents(
            key=key,
            drafted=self.drafted[1] if self.drafted else None,
            approved=self.approved[1] if self.approved else None,
            sent=self.sent[1] if self.sent else None,
            latest=self.latest[1],
            attempts=self.attempts,
            failures=self.failures,
        )


def _earlier(
    held: tuple[Key, Notification] | None, key: Key, event: Notification
) -> tuple[Key, Notification]:
    return held if held is not None and held[0] < key else (key, event)


class _Tally:
    def __init__(
        self, scenario: Scenario, amendments: Sequence[Amendment], keep_all: bool, marks: bool
    ) -> None:
        self.scenario = scenario
        self.amendments = amendments
        self.keep_all = keep_all
        self.with_marks = marks
        self.new_at = {a.target_seq: a.new_at for a in amendments}  # a later one wins
        # seq -> (what it is, when it was recorded, is it an amendment) of each named event
        self.targets: dict[int, tuple[str, float, bool]] = {}
        self.kept: list[Event] = []
        self.last_at: float | None = None
        self.reaches: list[Reach] = []
        self.notices: dict[str, _Notice] = {}
        self.people: set[tuple[str, str | None]] = set()
        # in seq order as read; a stable sort by drill time then gives (drill time, seq)
        self.notes: list[NoteItem] = []
        self.alerts: list[AlertChange] = []
        self.load: list[LoadPoint] = []
        self.joined: dict[str, tuple[Key, str]] = {}  # actor -> their last join's role
        self.marked_as: dict[str, tuple[Key, str]] = {}  # actor -> their first mark's role
        self.touched = False
        self.sources: set[Provenance] = set()
        self.marks: list[Mark] = []
        self.gists: dict[Gist, Gist] = {}  # what the marks say, each once
        # runbooks that restart a target end a fault: fault_runs reads them as events
        self.restarts = frozenset(r.id for r in scenario.runbooks if r.target is not None)

    def add(self, event: Event) -> None:
        if event.seq in self.new_at:
            self.targets[event.seq] = (describe(event), event.at, isinstance(event, Amendment))
        event = self._amended(event)
        key = (event.at, event.seq)
        if self.last_at is None or event.at > self.last_at:
            self.last_at = event.at
        if isinstance(event, TOUCHING):
            self.touched = True
        if self.with_marks and _on_timeline(event):
            self.marks.append(mark(event, gists=self.gists))
        if self._fold(key, event) and not self.keep_all:
            return
        self.kept.append(event)

    def _amended(self, event: Event) -> Event:
        if event.seq not in self.new_at or isinstance(event, Amendment):
            return event
        return event.model_copy(update={"at": self.new_at[event.seq]})

    def _fold(self, key: Key, event: Event) -> bool:
        """Keep what scoring needs of one of the many-times kinds; True when that was all."""
        match event:
            case Alert():
                self.alerts.append(AlertChange(event.at, alert_key(event), event.status))
                return True
            case LoadStats():
                point = LoadPoint(
                    at=event.at,
                    users=event.users,
                    rps=event.rps,
                    failures_per_s=event.failures_per_s,
                    p95_ms=event.p95_ms,
                )
                self.load.append(point)
                return True
            case Note():
                self.notes.append(_note(event))
                return True
            case Milestone():
                self.sources.add(mark_source(event))
                self.people.add((event.actor, event.role))
                reach = Reach(
                    event.name, event.at, event.actor, event.role, event.source, event.seq
                )
                self.reaches.append(reach)
                if event.role and _before(key, self.marked_as.get(event.actor)):
                    self.marked_as[event.actor] = (key, event.role)
                return True
            case Notification():
                self._notification(key, event)
                return True
            case Runbook():
                self.people.add((event.actor, event.role))
                return event.result == "ok" and event.runbook not in self.restarts
            case ParticipantJoined():
                held = self.joined.get(event.actor)
                if held is None or key > held[0]:
                    self.joined[event.actor] = (key, event.role)
                return False
            case _:
                return False

    def _notification(self, key: Key, event: Notification) -> None:
        self.sources.add(mark_source(event))
        if event.sender:
            self.people.add((event.sender, event.role))
        if event.status == "sent":  # a partial send still told customers; a failed one did not
            actor = event.sender or "unknown"
            self.reaches.append(Reach(NOTIFIED, event.at, actor, event.role, "notice", event.seq))
        group = event.notice or f"#{event.seq}"
        folded = self.notices.get(group)
        if folded is None:
            folded = self.notices[group] = _Notice(first=key)
        folded.add(key, event)

    def record(self) -> DrillRecord:
        scenario = self.scenario
        kept = _by_time(self.kept)
        started = next((e for e in kept if isinstance(e, DrillStarted)), None)
        end, ended, reason = _end(scenario, kept, started, self.last_at)
        items, recorded_at, warnings = self._amendment_items()
        roles = {actor: role for actor, (_, role) in self.marked_as.items()}
        roles.update({actor: role for actor, (_, role) in self.joined.items()})
        notices = sorted(self.notices.items(), key=lambda kv: kv[1].first)
        _by_time(self.marks)
        return DrillRecord(
            scenario=scenario,
            events=kept,
            started=started,
            t0=_t0(scenario, kept),
            end=end,
            ended=ended,
            end_reason=reason,
            recorded_at=recorded_at,
            amendments=items,
            roles_of=roles,
            warnings=warnings,
            provenance=provenance_of(started, self.touched, self.sources),
            reaches=_by_time(self.reaches),
            notices=[folded.folded(name) for name, folded in notices],
            people=frozenset(self.people),
            notes=_by_time(self.notes),
            alerts=_by_time(self.alerts),
            load_stats=_by_time(self.load),
            marks=self.marks,
        )

    def _amendment_items(self) -> tuple[list[AmendmentItem], dict[int, float], list[str]]:
        items: list[AmendmentItem] = []
        recorded: dict[int, float] = {}
        warnings: list[str] = []
        for amendment in self.amendments:
            target = self.targets.get(amendment.target_seq)
            if target is None or target[2]:
                warnings.append(
                    f"amendment #{amendment.seq} names event #{amendment.target_seq}, which is "
                    "not in the record; it was ignored"
                )
                continue
            what, at, _ = target
            recorded[amendment.target_seq] = at
            items.append(
                AmendmentItem(
                    seq=amendment.seq,
                    target_seq=amendment.target_seq,
                    what=what,
                    recorded_at=at,
                    amended_at=amendment.new_at,
                    actor=amendment.actor,
                    reason=amendment.reason,
                )
            )
        return items, recorded, warnings


def _before(key: Key, held: tuple[Key, str] | None) -> bool:
    return held is None or key < held[0]


class _Timed(Protocol):
    @property
    def at(self) -> float: ...


_Item = TypeVar("_Item", bound=_Timed)


def _by_time(items: list[_Item]) -> list[_Item]:
    """``items`` (gathered in seq order) in (drill time, seq) order, in place: the sort is
    stable, so no (time, seq) key per item is ever made."""
    items.sort(key=attrgetter("at"))
    return items


def _note(event: Note) -> NoteItem:
    """A note as the scorecard lists it. Built without validation (the event was validated)
    and with one shared fields-set: a long record's notes are a fifth of it, and a set per
    note was half of each one's memory. Frozen, so nothing ever adds to the set."""
    return NoteItem.model_construct(_NOTE_FIELDS, at=event.at, actor=event.actor, text=event.text)


_NOTE_FIELDS = {"at", "actor", "text"}


def _on_timeline(event: Event) -> bool:
    if event.type in _OFF_TIMELINE or isinstance(event, LoadStats | Amendment):
        return False
    return not (isinstance(event, Readiness) and event.ok)


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
    scenario: Scenario, events: list[Event], started: DrillStarted | None, last: float | None
) -> tuple[float, Ending, str]:
    for event in events:
        if isinstance(event, DrillEnded):
            return event.at, "ended", event.reason
        if isinstance(event, DrillAborted):
            return event.at, "aborted", event.reason
    # Still running (or the conductor died): the record so far is all we can speak for.
    duration = started.duration if started else scenario.duration
    return min(last, duration) if last else 0.0, "running", ""
