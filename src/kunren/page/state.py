"""What the pages show, derived from the event log alone.

Who joined, who recorded which milestone, readiness answers, the last state of each alert and
the injects are all read back from the record rather than kept in the web server's memory: a
restarted server (``kunren resume``) shows the same page, and a double click is recognised
because the first click is already in the log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kunren.page.control import DrillControl
from kunren.record.events import (
    Alert,
    Amendment,
    DrillAborted,
    DrillEnded,
    Event,
    Inject,
    Milestone,
    Notification,
    ParticipantJoined,
    ProbeFailed,
    ProbeRecovered,
    Readiness,
)

NOTIFIED = "customer_notified"


@dataclass(frozen=True)
class Participant:
    actor: str
    role: str
    joined_at: float


class DrillView:
    """The app's mirror of the record, refreshed incrementally before each request.

    ``on_new`` hears every batch of events the view takes in, whoever asked for the refresh
    (a request, the alert desk, the push watcher): open pages are told of each change once.
    """

    def __init__(
        self, control: DrillControl, on_new: Callable[[list[Event]], None] | None = None
    ) -> None:
        self.control = control
        self.on_new = on_new
        self.events: list[Event] = []
        self.participants: dict[tuple[str, str], Participant] = {}
        self.amended: dict[int, float] = {}
        self.ended: DrillEnded | DrillAborted | None = None
        self._milestones: dict[tuple[str, str], Milestone] = {}
        self._readiness: dict[tuple[str, str, str], Readiness] = {}
        self._alerts: dict[tuple[str, str], str] = {}
        self._by_seq: dict[int, Event] = {}
        self._notified: dict[str, Notification] = {}  # a sent notice marks customer_notified
        self._failing: dict[str, ProbeFailed] = {}
        self._injects: list[Inject] = []  # kept apart: every page view and push reads them

    @property
    def last_seq(self) -> int:
        return self.events[-1].seq if self.events else 0

    def refresh(self) -> list[Event]:
        """Take in what was appended since the last look; returns those events."""
        new = self.control.events(after=self.last_seq)
        for event in new:
            self._apply(event)
        if new and self.on_new is not None:
            self.on_new(new)
        return new

    def _apply(self, event: Event) -> None:
        self.events.append(event)
        self._by_seq[event.seq] = event
        if isinstance(event, ParticipantJoined):
            key = (event.actor, event.role)
            self.participants.setdefault(key, Participant(event.actor, event.role, event.at))
        elif isinstance(event, Milestone):
            self._milestones.setdefault((event.actor, event.name), event)
        elif isinstance(event, Readiness):
            self._readiness[(event.actor, event.role, event.tool)] = event
        elif isinstance(event, Alert):
            self._alerts[(event.source, event.name)] = event.status
        elif isinstance(event, Notification) and event.status == "sent" and event.sender:
            self._notified.setdefault(event.sender, event)
        elif isinstance(event, ProbeFailed):
            self._failing.setdefault(event.probe, event)
        elif isinstance(event, ProbeRecovered):
            self._failing.pop(event.probe, None)
        elif isinstance(event, Inject):
            self._injects.append(event)
        elif isinstance(event, Amendment):
            self.amended[event.target_seq] = event.new_at
        elif isinstance(event, DrillEnded | DrillAborted):
            self.ended = event

    def event(self, seq: int) -> Event | None:
        return self._by_seq.get(seq)

    def at(self, event: Event) -> float:
        """The event's drill time, as amended by the facilitator if it was."""
        return self.amended.get(event.seq, event.at)

    def has_joined(self, actor: str, role: str) -> bool:
        return (actor, role) in self.participants

    def role_of(self, actor: str) -> str | None:
        """The role ``actor`` last joined in (alert acknowledgements carry only a name)."""
        roles = [p.role for (name, _), p in self.participants.items() if name == actor]
        return roles[-1] if roles else None

    def milestone(self, actor: str, name: str) -> Milestone | None:
        """``actor``'s first record of milestone ``name``: each person reaches it once."""
        return self._milestones.get((actor, name))

    def reached(self, actor: str, name: str) -> Milestone | Notification | None:
        """How ``actor`` first reached ``name``: a press, or (for customer_notified) the
        first notice they sent, whichever came first; the scorer counts both the same."""
        pressed = self._milestones.get((actor, name))
        sent = self._notified.get(actor) if name == NOTIFIED else None
        if pressed is None or sent is None:
            return pressed or sent
        return pressed if pressed.seq < sent.seq else sent

    def failing(self) -> list[str]:
        """Probes failing now and alerts firing now: what is broken, as the record knows."""
        alerts = [name for (_, name), status in self._alerts.items() if status == "firing"]
        return [*self._failing, *alerts]

    def readiness(self, actor: str, role: str, tool: str) -> Readiness | None:
        return self._readiness.get((actor, role, tool))

    def injects_for(self, role: str) -> list[Inject]:
        return [event for event in self._injects if not event.to or role in event.to]

    def tools_missing(self, actor: str, role: str) -> list[str] | None:
        """Tools ``actor`` said do not open; None while some are still unanswered."""
        spec = self.control.scenario.roles.get(role)
        tools = [tool.name for tool in spec.tools] if spec else []
        answers = [self.readiness(actor, role, tool) for tool in tools]
        if any(answer is None for answer in answers):
            return None
        return [a.tool for a in answers if a is not None and not a.ok]
