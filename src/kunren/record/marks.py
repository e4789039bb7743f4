"""A timeline entry as a long record's report holds it: its time, and a shared ``Gist``.

A company-wide game day records a million events, and the report draws each of them. As
pydantic ``Entry`` models they cost about 1.4 KB each, five times the line they came from.
But most of a long record says the same few things again and again (one alert firing and
resolving all afternoon, the same person's notes, the same notice re-sent), so what an entry
says, without when, is a ``Gist`` kept once per record and shared (a flyweight), and a
``Mark`` is only its seq, its drill time and its gist: about 140 bytes with its numbers.
A ``Mark`` reads like an ``Entry`` (the same attribute names), so the surfaces that draw the
timeline take either; ``kunren.record.timeline`` makes both, from one mapping of the events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

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


class Gist(NamedTuple):
    """What a timeline entry says, without when: the fields of ``Entry`` after ``at``.

    A tuple, so making, hashing and comparing one (once per event, to share it) costs what
    a tuple costs, and the garbage collector does not track it. ``number`` is ``Entry.count``
    (a tuple has a ``count`` method already).
    """

    kind: EventType
    lane: Lane
    subject: str = ""
    status: str = ""
    actor: str | None = None
    role: str | None = None
    provenance: Provenance = "conductor"
    detail: str = ""
    targets: tuple[str, ...] = ()
    number: float | None = None
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
    to_roles: tuple[str, ...] = ()


@dataclass(slots=True)
class Mark:
    """One timeline entry: seq, drill time and its (shared) gist, read like an ``Entry``.

    ``until`` (a span's end: a fault active, a probe failing) and ``recorded_at`` (the time
    before an amendment) are the scorer's, which alone knows them.
    """

    seq: int
    at: float
    gist: Gist
    until: float | None = None
    recorded_at: float | None = None

    @property
    def kind(self) -> EventType:
        return self.gist.kind

    @property
    def lane(self) -> Lane:
        return self.gist.lane

    @property
    def subject(self) -> str:
        return self.gist.subject

    @property
    def status(self) -> str:
        return self.gist.status

    @property
    def actor(self) -> str | None:
        return self.gist.actor

    @property
    def role(self) -> str | None:
        return self.gist.role

    @property
    def provenance(self) -> Provenance:
        return self.gist.provenance

    @property
    def detail(self) -> str:
        return self.gist.detail

    @property
    def targets(self) -> tuple[str, ...]:
        return self.gist.targets

    @property
    def count(self) -> float | None:
        return self.gist.number

    @property
    def via(self) -> str:
        return self.gist.via

    @property
    def to(self) -> str:
        return self.gist.to

    @property
    def scenario(self) -> str | None:
        return self.gist.scenario

    @property
    def speed(self) -> float | None:
        return self.gist.speed

    @property
    def late(self) -> bool:
        return self.gist.late

    @property
    def spawn_rate(self) -> float | None:
        return self.gist.spawn_rate

    @property
    def failures_per_s(self) -> float | None:
        return self.gist.failures_per_s

    @property
    def p95_ms(self) -> float | None:
        return self.gist.p95_ms

    @property
    def recorded_status(self) -> str | None:
        return self.gist.recorded_status

    @property
    def sender(self) -> str | None:
        return self.gist.sender

    @property
    def template(self) -> str | None:
        return self.gist.template

    @property
    def delivered(self) -> int | None:
        return self.gist.delivered

    @property
    def captured(self) -> int | None:
        return self.gist.captured

    @property
    def refers_to(self) -> int | None:
        return self.gist.refers_to

    @property
    def to_roles(self) -> tuple[str, ...]:
        return self.gist.to_roles


def shared(gist: Gist, gists: dict[Gist, Gist]) -> Gist:
    """``gist``, or the equal one already in ``gists`` (one record's gists)."""
    return gists.setdefault(gist, gist)
