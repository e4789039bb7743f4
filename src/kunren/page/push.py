"""Pushing the page to the people looking at it: server-sent events when the record changes.

Polling had every open page ask "anything new?" every few seconds: 300 people made over 8,000
requests in 45 s, nearly all answered "nothing". Here each open page holds one stream
(``text/event-stream``, the browser's ``EventSource``) and the server writes to it only when
something that page shows has changed. Every batch of events the app's view of the record
takes in (``DrillView.on_new``) is sorted once by whom it concerns, so:

- a milestone wakes only the streams of the person it is for (and the facilitator's);
- an inject, an alert, a probe, an amendment or the drill's end wakes the streams of the roles
  it is for, and each role's state is computed once per change and language (``shared``), not
  once per connection;
- with nothing to say, a stream carries a keep-alive comment every ``keepalive_seconds`` (so
  proxies keep the connection open), and ``retry:`` tells the browser how soon to reconnect.

The page's own writes reach the view at once; the conductor's and ``kunren mark``'s from
another terminal are found by one watcher per app, which looks at the record every
``watch_seconds`` while any stream is open, and also notices what no event says: the drill
clock passing the scenario's duration ("drill over"), and a clock that does not tick by itself
(virtual) having moved. A stream ends after the drill's last state, and when the server stops
(``close``), so shutdown never waits on an open stream. The browser falls back to polling
``/api/state`` when a stream cannot work (see ``base.html``); both show the same state.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Literal

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
from kunren.runtime.clock import Clock

log = logging.getLogger("kunren.web")

Scope = Literal["role", "own", "clock", "end", "timeline", "people"]
"""What changed for a stream: its role's state, its person's own state, the clock alone, the
drill's end; for the facilitator view, the timeline and the list of people."""

Next = Callable[[set[Scope]], tuple[list[str], bool]]
"""Given what changed, the messages to send and whether the stream is finished."""

EVENT_STREAM = "text/event-stream"


def message(payload: object) -> str:
    """One server-sent event carrying ``payload`` as JSON (one ``data:`` line: JSON written
    without newlines needs no splitting)."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return f"data: {text}\n\n"


@dataclass(eq=False)
class Subscriber:
    """One open stream: whose page it is, and what changed since it last wrote."""

    role: str | None  # a participant's role (None: not joined yet, or the facilitator view)
    actor: str | None
    facilitator: bool = False
    changed: set[Scope] = field(default_factory=set)
    people: set[tuple[str, str]] = field(default_factory=set)  # (actor, role) rows to resend
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    gone: bool = False  # the page went away (its connection closed)

    def tell(self, scope: Scope) -> None:
        self.changed.add(scope)
        self.wake.set()

    def take(self) -> set[Scope]:
        changed, self.changed = self.changed, set()
        self.wake.clear()
        return changed

    def hang_up(self) -> None:
        """The page's connection closed: its stream ends at once, without writing."""
        self.gone = True
        self.wake.set()

    def take_people(self) -> set[tuple[str, str]]:
        people, self.people = self.people, set()
        return people


@dataclass(frozen=True)
class PushOptions:
    keepalive_seconds: float
    watch_seconds: float
    retry_ms: int


class Changes:
    """The one change notification of an app: who is listening, and who each change is for."""

    def __init__(self, clock: Clock, duration: float, options: PushOptions) -> None:
        self.clock = clock
        self.duration = duration
        self.options = options
        self.closed = False
        self._everyone: set[Subscriber] = set()
        self._facilitators: set[Subscriber] = set()
        self._by_role: dict[str, set[Subscriber]] = {}
        self._by_actor: dict[str, set[Subscriber]] = {}
        self._all_version = 0  # changes every role's state shows
        self._role_version: dict[str, int] = {}  # changes one role's state shows
        self._shared: dict[tuple[str, str], tuple[tuple[int, int], str]] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._over = False
        self._shown_now: float | None = None

    @property
    def listening(self) -> int:
        return len(self._everyone)

    # ------------------------------------------------------------------ subscribers

    def subscribe(
        self, role: str | None, actor: str | None, *, facilitator: bool = False
    ) -> Subscriber:
        sub = Subscriber(role, actor, facilitator)
        if self._shown_now is None:  # the clock this page's first state shows: a jump of a
            self._shown_now = self.clock.now()  # stopped clock before the next look is told
        self._everyone.add(sub)
        if facilitator:
            self._facilitators.add(sub)
        if role is not None:
            self._by_role.setdefault(role, set()).add(sub)
        if actor is not None:
            self._by_actor.setdefault(actor, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._everyone.discard(sub)
        self._facilitators.discard(sub)
        for index, key in ((self._by_role, sub.role), (self._by_actor, sub.actor)):
            if key is not None and key in index:
                index[key].discard(sub)
                if not index[key]:
                    del index[key]

    # ------------------------------------------------------------------ changes

    def publish(self, events: list[Event]) -> None:
        """Tell each open stream what these new events change for it (``DrillView.on_new``)."""
        for event in events:
            self._publish(event)
        for sub in self._facilitators:
            sub.tell("timeline")

    def _publish(self, event: Event) -> None:
        match event:
            case Inject(to=to) if to:
                for role in to:
                    self._role_version[role] = self._role_version.get(role, 0) + 1
                    for sub in self._by_role.get(role, ()):
                        sub.tell("role")
            case Inject() | Alert() | ProbeFailed() | ProbeRecovered():
                self._tell_every_role("role")
            case Amendment():  # an inject's time or anyone's mark may move: rare, tell all
                self._tell_every_role("role")
                self._tell_every_role("own")
            case DrillEnded() | DrillAborted():
                self._all_version += 1
                for sub in self._everyone:
                    sub.tell("end")
            case Milestone(actor=actor):
                self._tell_actor(actor, "own")
            case Notification(status="sent", sender=sender) if sender:
                self._tell_actor(sender, "own")
            case ParticipantJoined(actor=actor, role=role) | Readiness(actor=actor, role=role):
                for sub in self._facilitators:  # only the rows that changed: not all 1,000
                    sub.people.add((actor, role))
                    sub.tell("people")
            case _:
                pass  # nothing a participant's page shows

    def _tell_every_role(self, scope: Scope) -> None:
        self._all_version += 1
        for sub in self._everyone:
            if not sub.facilitator:
                sub.tell(scope)

    def _tell_actor(self, actor: str, scope: Scope) -> None:
        for sub in self._by_actor.get(actor, ()):
            sub.tell(scope)

    def shared(self, role: str, lang: str, build: Callable[[], str]) -> str:
        """The role's message in ``lang``, built once per change of what the role sees."""
        version = (self._all_version, self._role_version.get(role, 0))
        cached = self._shared.get((role, lang))
        if cached is not None and cached[0] == version:
            return cached[1]
        text = build()
        self._shared[(role, lang)] = (version, text)
        return text

    def close(self) -> None:
        """End every open stream now (the server is stopping), each after sending what it was
        already told: a drill's end recorded just before still reaches every open page."""
        self.closed = True
        for sub in self._everyone:
            sub.wake.set()
        if self._watcher is not None:
            self._watcher.cancel()

    # ------------------------------------------------------------------ the watcher

    def watch(self, refresh: Callable[[], object], ticking: Callable[[], bool]) -> None:
        """Look at the record every ``watch_seconds`` while any stream is open."""
        if self._watcher is None and not self.closed:
            self._watcher = asyncio.create_task(self._watch(refresh, ticking), name="kunren-push")

    async def _watch(self, refresh: Callable[[], object], ticking: Callable[[], bool]) -> None:
        try:
            while self._everyone and not self.closed:
                try:
                    refresh()  # publishes what others appended, through the view
                except Exception:  # a record being repaired: the next look tries again
                    log.exception("could not read the record for the open pages")
                self._clock_moved(ticking())
                await asyncio.sleep(self.options.watch_seconds)
        finally:
            self._watcher = None

    def _clock_moved(self, ticking: bool) -> None:
        now = self.clock.now()
        over = now >= self.duration
        if over != self._over:  # "drill over" is the clock's doing, not an event's
            self._over = over
            self._tell_every_role("role")
        if ticking:  # the page's own clock keeps up with a clock that ticks
            self._shown_now = None
        elif self._shown_now is None or abs(now - self._shown_now) >= 1.0:
            if self._shown_now is not None:
                for sub in self._everyone:
                    sub.tell("clock")
            self._shown_now = now

    # ------------------------------------------------------------------ one stream

    async def stream(
        self, sub: Subscriber, first: list[str], after: Next, done: bool = False
    ) -> AsyncIterator[str]:
        """What one open page receives: ``retry:``, its state now, then what changes, until
        the drill ends (``done``: it already has) or the server stops; the subscription ends
        with the stream."""
        loop = asyncio.get_running_loop()
        try:
            yield f"retry: {self.options.retry_ms}\n\n"
            for text in first:
                yield text
            while not done and not sub.gone:
                if not self.closed:
                    # a timer, not wait_for: that makes a task per wait, for each open page
                    timer = loop.call_later(self.options.keepalive_seconds, sub.wake.set)
                    await sub.wake.wait()
                    timer.cancel()
                    if sub.gone:
                        break
                    if not sub.changed and not self.closed:
                        sub.wake.clear()
                        yield ": keep-alive\n\n"
                        continue
                if sub.changed:  # closing too: what was already told (the end) goes out first
                    texts, done = after(sub.take())
                    for text in texts:
                        yield text
                if self.closed:
                    break
        finally:
            self.unsubscribe(sub)
