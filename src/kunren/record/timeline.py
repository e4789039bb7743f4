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

from typing import Any, Literal, assert_never

from pydantic import BaseModel, ConfigDict, Field

from kunren.factories import new_list
from kunren.record import events as ev
from kunren.record.marks import EventType as EventType  # re-exported: named here first
from kunren.record.marks import Gist, Mark, shared
from kunren.record.marks import Lane as Lane
from kunren.record.marks import Provenance as Provenance

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
    targets: list[str] = Field(default_factory=new_list)
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
    to_roles: list[str] = Field(default_factory=new_list, exclude_if=lambda value: not value)


def entry(event: ev.Event, imported: bool = False) -> Entry:
    """The structured entry of one event; ``imported`` marks every entry of an imported drill."""
    return entry_of(mark(event, imported))


def mark(event: ev.Event, imported: bool = False, gists: dict[Gist, Gist] | None = None) -> Mark:
    """The entry of one event as a slim ``Mark``; ``gists``: the record's gists so far, to
    share the gist with every earlier entry that says the same."""
    gist = _gist(event)
    if imported and gist.provenance == "conductor":
        gist = gist._replace(provenance="import")
    return Mark(event.seq, event.at, shared(gist, gists) if gists is not None else gist)


def entry_of(mark: Mark) -> Entry:
    """The pydantic entry of a mark (its ``until`` and ``recorded_at`` are not in it).

    A gist holds ``Entry``'s fields after ``at``, by the same names but ``number`` (``count``)
    and with tuples for lists; ``extra="forbid"`` refuses a field the two disagree on.
    """
    fields = mark.gist._asdict()
    fields["count"] = fields.pop("number")
    fields["targets"] = list(mark.gist.targets)
    fields["to_roles"] = list(mark.gist.to_roles)
    return Entry(seq=mark.seq, at=mark.at, **fields)


def _gist(event: ev.Event) -> Gist:
    base = event.type
    match event:
        case ev.DrillStarted():
            return Gist(
                base,
                lane="drill",
                subject=event.drill,
                status=event.clock,
                detail=event.title,
                scenario=event.scenario_id,
                speed=event.speed,
            )
        case ev.DrillResumed():
            return Gist(base, lane="drill", detail=event.reason, speed=event.speed)
        case ev.DrillEnded() | ev.DrillAborted():
            return Gist(base, lane="drill", detail=event.reason)
        case ev.FaultInjecting():
            return Gist(
                base,
                lane="fault",
                subject=event.fault,
                status=event.kind,
                targets=tuple(event.planned),
            )
        case ev.FaultInjected():
            return Gist(
                base,
                lane="fault",
                subject=event.fault,
                status=event.kind,
                targets=tuple(event.targets),
                detail=event.detail,
            )
        case ev.FaultFailed() | ev.FaultRevertFailed():
            return Gist(base, lane="fault", subject=event.fault, detail=event.error)
        case ev.FaultReverting():
            return Gist(base, lane="fault", subject=event.fault)
        case ev.FaultReverted():
            return Gist(base, lane="fault", subject=event.fault, detail=event.detail)
        case ev.ServiceStarted():
            return Gist(base, lane="service", subject=event.name, number=event.pid)
        case ev.ServiceStopped():
            return Gist(base, lane="service", subject=event.name, detail=event.detail)
        case ev.ServiceExited():
            return Gist(base, lane="service", subject=event.name, number=event.code)
        case ev.LoadStage():
            status = "planned" if event.planned else ""
            return Gist(
                base, lane="load", number=event.users, status=status, spawn_rate=event.spawn_rate
            )
        case ev.LoadStats():
            return Gist(
                base,
                lane="load",
                number=event.rps,
                failures_per_s=event.failures_per_s,
                p95_ms=event.p95_ms,
            )
        case ev.LoadLost():
            status = "load stopped" if event.load_stopped else ""
            return Gist(
                base,
                lane="load",
                subject=event.process,
                status=status,
                number=event.code,
                detail=event.detail,
            )
        case ev.ProbeFailed() | ev.ProbeRecovered():
            return Gist(base, lane="probe", subject=event.probe, detail=event.detail)
        case ev.Alert():
            return Gist(
                base,
                lane="alert",
                subject=event.name,
                status=event.status,
                actor=event.actor,
                provenance="alert",
                via=event.source,
            )
        case ev.Inject():
            return Gist(
                base,
                lane="inject",
                subject=event.kind,
                actor=event.who,
                detail=event.text,
                to=", ".join(event.to),
                to_roles=tuple(event.to),
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


def _people_entry(event: _PeopleEvent, base: EventType) -> Gist:
    match event:
        case ev.Milestone():
            source = mark_source(event)
            return Gist(
                base,
                lane="people",
                subject=event.name,
                actor=event.actor,
                role=event.role,
                provenance=source,
                detail=event.note,
                late=event.late,
            )
        case ev.Notification():
            return Gist(
                base,
                lane="people",
                subject=event.notice,
                status=notice_status(event),
                actor=event.sender or event.approver,
                role=event.role,
                provenance="notice",
                detail=event.note,
                number=event.recipients or None,
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
            return Gist(
                base,
                lane="people",
                subject=event.runbook,
                status=event.result,
                actor=event.actor,
                role=event.role,
                provenance="participant",
                detail=event.detail,
            )
        case ev.Readiness():
            return Gist(
                base,
                lane="people",
                subject=event.tool,
                status="ok" if event.ok else "failed",
                actor=event.actor,
                role=event.role,
                provenance="participant",
                detail=event.note,
            )
        case ev.ParticipantJoined():
            return Gist(
                base,
                lane="people",
                subject=event.role,
                actor=event.actor,
                role=event.role,
                provenance="participant",
            )
        case ev.Note():
            return Gist(
                base,
                lane="people",
                actor=event.actor or None,
                provenance="participant" if event.actor else "facilitator",
                detail=event.text,
                late=event.late,
            )
        case ev.Amendment():
            return Gist(
                base,
                lane="record",
                subject=str(event.target_seq),
                actor=event.actor,
                provenance="facilitator",
                number=event.new_at,
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
    sources: list[Provenance] = Field(default_factory=new_list)  # who produced the marks, sorted

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
