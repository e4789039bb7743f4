"""Each recorded event as one structured timeline entry, and where the drill's numbers came from.

Before this module the same event was turned into English in five places and the reports
re-parsed the scorer's English to translate it. Now ``entry(event)`` is the one place an event
becomes something to show: a kind, a subject, a status, who, and its provenance, with no
language in it. Every surface (the report's HTML, Markdown and JSON, the console, the page)
renders entries in its own language and escapes them for its own format. The ``match`` over
the event union ends in ``assert_never``, so mypy refuses a new event type until it is
handled here.

``drill_provenance(events)`` says what kind of drill the record is (live, imported, tabletop)
and on which clock it ran, so no report can present a 92-second run at 40x with simulated
people as an hour of live work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, assert_never

from pydantic import BaseModel, ConfigDict, Field

from kunren.record import events as ev

Lane = Literal["drill", "fault", "service", "load", "probe", "alert", "inject", "people", "record"]
Provenance = Literal[
    "conductor", "participant", "facilitator", "simulated", "alert", "notice", "import"
]
EventType = Literal[
    "drill.started",
    "drill.ended",
    "drill.aborted",
    "drill.resumed",
    "fault.injecting",
    "fault.injected",
    "fault.failed",
    "fault.reverting",
    "fault.reverted",
    "fault.revert_failed",
    "service.started",
    "service.stopped",
    "service.exited",
    "load.stage",
    "load.stats",
    "load.lost",
    "probe.failed",
    "probe.recovered",
    "alert",
    "inject",
    "milestone",
    "notification",
    "runbook",
    "readiness",
    "participant.joined",
    "note",
    "amendment",
]
DrillKind = Literal["live", "import", "tabletop"]
ClockKind = Literal["real", "scaled", "virtual"]

# Sources of marks a live person did not produce at the time: every number from one of
# these is labelled where it is shown.
NOT_LIVE: frozenset[str] = frozenset({"facilitator", "simulated", "alert", "notice", "import"})


def _unset() -> Any:
    """A field's default of None, left out of the JSON while it is None."""
    return Field(default=None, exclude_if=lambda value: value is None)


class Entry(BaseModel):
    """One event as the timeline shows it; every string here is data, none is a sentence.

    ``subject`` is what the event is about (the fault, probe, alert, milestone, runbook,
    tool, role…); ``status`` its state (firing, sent, ok, failed…); ``detail`` free text as
    it was recorded (a reason, an error, a note: shown as written, never re-parsed). The
    fields after ``to`` carry what a surface shows of a few event types (a load stage's
    spawn rate, a notice's sender and delivery counts), so no surface reaches back to the
    event or re-reads a rendered line to find them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int
    at: float
    kind: EventType
    lane: Lane
    subject: str = ""
    status: str = ""
    actor: str | None = None
    role: str | None = None
    provenance: Provenance = "conductor"
    detail: str = ""
    targets: list[str] = Field(default_factory=list)
    count: float | None = None  # users, recipients, pid, rps: the number the event is about
    via: str = ""  # the channel of a notice, the source of an alert
    to: str = ""  # the audience of a notice, the people an inject is for
    # What only some events have, for the surfaces that show it (the console, the
    # facilitator view). Each is left out of the JSON while unset, so an entry says only
    # what its event had and the scorecards of older records read as before.
    scenario: str | None = _unset()  # drill.started: the scenario's id
    speed: float | None = _unset()  # drill.started/resumed: drill seconds per real second
    late: bool = Field(default=False, exclude_if=lambda value: not value)  # after the end
    spawn_rate: float | None = _unset()  # load.stage: users started per second
    failures_per_s: float | None = _unset()  # load.stats
    p95_ms: float | None = _unset()  # load.stats, when the interval had requests
    recorded_status: str | None = _unset()  # a notice's status as written (never "partial")
    sender: str | None = _unset()  # who acted in a notice's step, as recorded
    template: str | None = _unset()  # the notice template's name
    delivered: int | None = _unset()  # a notice's recipients reached
    captured: int | None = _unset()  # a notice's recipients outside the allowlist, captured
    refers_to: int | None = _unset()  # amendment: the seq of the event it moves
    # inject: the roles it is for, one by one (``to`` is them joined for reading)
    to_roles: list[str] = Field(default_factory=list, exclude_if=lambda value: not value)


@dataclass(slots=True)
class Mark:
    """An ``Entry`` as a slim object: the same fields, no per-instance dict or validation.

    A company-wide drill records a million events; a pydantic ``Entry`` costs about 1.4 KB
    each, a ``Mark`` a fifth of that, so the report of a long record holds marks and turns
    them into entries only where a surface asks for the models (the JSON of a scorecard).
    ``until`` (a span's end) and ``recorded_at`` (the time before an amendment) are filled
    in by the scorer, which alone knows them; nothing changes a mark after that.
    """

    seq: int
    at: float
    kind: EventType
    lane: Lane
    subject: str = ""
    status: str = ""
    actor: str | None = None
    role: str | None = None
    provenance: Provenance = "conductor"
    detail: str = ""
    targets: Sequence[str] = ()
    count: float | None = None
    via: str = ""
    to: str = ""
    scenario: str | None = None
    speed: float | None = None
    late: bool = False
    spawn_rate: float | None = None
    failures_per_s: float | None = None
    p95_ms: float | None = None
    recorded_status: str | None = None
    sender: str | None = None
    template: str | None = None
    delivered: int | None = None
    captured: int | None = None
    refers_to: int | None = None
    to_roles: Sequence[str] = ()
    until: float | None = None
    recorded_at: float | None = None

    def entry(self) -> Entry:
        """The pydantic entry of this mark (``until`` and ``recorded_at`` are not in it)."""
        return Entry(
            seq=self.seq,
            at=self.at,
            kind=self.kind,
            lane=self.lane,
            subject=self.subject,
            status=self.status,
            actor=self.actor,
            role=self.role,
            provenance=self.provenance,
            detail=self.detail,
            targets=list(self.targets),
            count=self.count,
            via=self.via,
            to=self.to,
            scenario=self.scenario,
            speed=self.speed,
            late=self.late,
            spawn_rate=self.spawn_rate,
            failures_per_s=self.failures_per_s,
            p95_ms=self.p95_ms,
            recorded_status=self.recorded_status,
            sender=self.sender,
            template=self.template,
            delivered=self.delivered,
            captured=self.captured,
            refers_to=self.refers_to,
            to_roles=list(self.to_roles),
        )


def entry(event: ev.Event, imported: bool = False) -> Entry:
    """The structured entry of one event; ``imported`` marks every entry of an imported drill."""
    return mark(event, imported).entry()


def mark(event: ev.Event, imported: bool = False) -> Mark:
    """The entry of one event as a slim ``Mark`` (what a long record's timeline holds)."""
    made = _mark(event)
    if imported and made.provenance == "conductor":
        made.provenance = "import"
    return made


def _mark(event: ev.Event) -> Mark:
    base = (event.seq, event.at, event.type)
    match event:
        case ev.DrillStarted():
            return Mark(
                *base,
                lane="drill",
                subject=event.drill,
                status=event.clock,
                detail=event.title,
                scenario=event.scenario_id,
                speed=event.speed,
            )
        case ev.DrillResumed():
            return Mark(*base, lane="drill", detail=event.reason, speed=event.speed)
        case ev.DrillEnded() | ev.DrillAborted():
            return Mark(*base, lane="drill", detail=event.reason)
        case ev.FaultInjecting():
            return Mark(
                *base, lane="fault", subject=event.fault, status=event.kind, targets=event.planned
            )
        case ev.FaultInjected():
            return Mark(
                *base,
                lane="fault",
                subject=event.fault,
                status=event.kind,
                targets=event.targets,
                detail=event.detail,
            )
        case ev.FaultFailed() | ev.FaultRevertFailed():
            return Mark(*base, lane="fault", subject=event.fault, detail=event.error)
        case ev.FaultReverting():
            return Mark(*base, lane="fault", subject=event.fault)
        case ev.FaultReverted():
            return Mark(*base, lane="fault", subject=event.fault, detail=event.detail)
        case ev.ServiceStarted():
            return Mark(*base, lane="service", subject=event.name, count=event.pid)
        case ev.ServiceStopped():
            return Mark(*base, lane="service", subject=event.name, detail=event.detail)
        case ev.ServiceExited():
            return Mark(*base, lane="service", subject=event.name, count=event.code)
        case ev.LoadStage():
            status = "planned" if event.planned else ""
            return Mark(
                *base, lane="load", count=event.users, status=status, spawn_rate=event.spawn_rate
            )
        case ev.LoadStats():
            return Mark(
                *base,
                lane="load",
                count=event.rps,
                failures_per_s=event.failures_per_s,
                p95_ms=event.p95_ms,
            )
        case ev.LoadLost():
            status = "load stopped" if event.load_stopped else ""
            return Mark(
                *base,
                lane="load",
                subject=event.process,
                status=status,
                count=event.code,
                detail=event.detail,
            )
        case ev.ProbeFailed() | ev.ProbeRecovered():
            return Mark(*base, lane="probe", subject=event.probe, detail=event.detail)
        case ev.Alert():
            return Mark(
                *base,
                lane="alert",
                subject=event.name,
                status=event.status,
                actor=event.actor,
                provenance="alert",
                via=event.source,
            )
        case ev.Inject():
            return Mark(
                *base,
                lane="inject",
                subject=event.kind,
                actor=event.who,
                detail=event.text,
                to=", ".join(event.to),
                to_roles=event.to,
            )
        case (
            ev.Milestone()
            | ev.Notification()
            | ev.Runbook()
            | ev.Readiness()
            | ev.ParticipantJoined()
            | ev.Note()
            | ev.Amendment()
        ):
            return _people_entry(event, base)
        case _:
            assert_never(event)


_PeopleEvent = (
    ev.Milestone | ev.Notification | ev.Runbook | ev.Readiness | ev.ParticipantJoined | ev.Note
) | ev.Amendment


def _people_entry(event: _PeopleEvent, base: tuple[int, float, EventType]) -> Mark:
    match event:
        case ev.Milestone():
            source = mark_source(event)
            return Mark(
                *base,
                lane="people",
                subject=event.name,
                actor=event.actor,
                role=event.role,
                provenance=source,
                detail=event.note,
                late=event.late,
            )
        case ev.Notification():
            return Mark(
                *base,
                lane="people",
                subject=event.notice,
                status=notice_status(event),
                actor=event.sender or event.approver,
                role=event.role,
                provenance="notice",
                detail=event.note,
                count=event.recipients or None,
                via=event.channel,
                to=event.audience,
                targets=tuple(event.failed),
                recorded_status=event.status,
                sender=event.sender,
                template=event.template,
                delivered=event.delivered,
                captured=event.captured,
            )
        case ev.Runbook():
            return Mark(
                *base,
                lane="people",
                subject=event.runbook,
                status=event.result,
                actor=event.actor,
                role=event.role,
                provenance="participant",
                detail=event.detail,
            )
        case ev.Readiness():
            return Mark(
                *base,
                lane="people",
                subject=event.tool,
                status="ok" if event.ok else "failed",
                actor=event.actor,
                role=event.role,
                provenance="participant",
                detail=event.note,
            )
        case ev.ParticipantJoined():
            return Mark(
                *base,
                lane="people",
                subject=event.role,
                actor=event.actor,
                role=event.role,
                provenance="participant",
            )
        case ev.Note():
            return Mark(
                *base,
                lane="people",
                actor=event.actor or None,
                provenance="participant" if event.actor else "facilitator",
                detail=event.text,
                late=event.late,
            )
        case ev.Amendment():
            return Mark(
                *base,
                lane="record",
                subject=str(event.target_seq),
                actor=event.actor,
                provenance="facilitator",
                count=event.new_at,
                detail=event.reason,
                late=event.late,
                refers_to=event.target_seq,
            )
        case _:
            assert_never(event)


def notice_status(event: ev.Notification) -> str:
    """``partial`` when a sent notice did not reach every recipient: never shown as "sent"."""
    if event.status == "sent" and event.failed:
        return "partial"
    return event.status


class DrillProvenance(BaseModel):
    """What kind of drill a record is and on which clock it ran."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: DrillKind
    clock: ClockKind
    speed: float = 1.0  # drill seconds per real second (1 on the real clock, 0 on virtual)
    sources: list[Provenance] = Field(default_factory=list)  # who produced the marks, sorted

    @property
    def simulated(self) -> bool:
        return "simulated" in self.sources


TOUCHING = (
    ev.FaultInjecting,
    ev.FaultInjected,
    ev.ProbeFailed,
    ev.ProbeRecovered,
    ev.ServiceStarted,
    ev.LoadStats,
)


def drill_provenance(events: list[ev.Event]) -> DrillProvenance:
    """Live, imported or tabletop, and the clock, from the record alone.

    A conductor drill that touched nothing (no fault, probe or service event) is a tabletop.
    """
    started = next((e for e in events if isinstance(e, ev.DrillStarted)), None)
    touched = any(isinstance(e, TOUCHING) for e in events)
    sources = {mark_source(e) for e in events if isinstance(e, ev.Milestone | ev.Notification)}
    return provenance_of(started, touched, sources)


def mark_source(event: ev.Milestone | ev.Notification) -> Provenance:
    """Who produced a milestone or a notice, as its timeline entry says."""
    if isinstance(event, ev.Notification):
        return "notice"
    return "import" if event.source == "import" else event.source


def provenance_of(
    started: ev.DrillStarted | None, touched: bool, sources: set[Provenance]
) -> DrillProvenance:
    """The provenance of a drill whose first ``drill.started`` is ``started``, which touched
    the system (a fault, probe, service or load statistics event) or not, and whose marks
    and notices came from ``sources``."""
    imported = started is not None and started.source == "import"
    kind: DrillKind = "import" if imported else ("live" if touched else "tabletop")
    return DrillProvenance(
        kind=kind,
        clock=_clock(started),
        speed=started.speed if started is not None else 1.0,
        sources=sorted(sources),
    )


def _clock(started: ev.DrillStarted | None) -> ClockKind:
    if started is None:
        return "real"
    match started.clock:
        case "virtual":
            return "virtual"
        case "scaled":
            return "scaled"
        case _:
            return "scaled" if started.speed not in (0.0, 1.0) else "real"
