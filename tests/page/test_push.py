"""Updates pushed to open pages (server-sent events), read over real HTTP from the served app.

Each stream is read line by line as a browser's EventSource would; waiting for one message
has a deadline (``MESSAGE_DEADLINE_S``, checked at every line, keep-alive comments included),
so a message that never comes fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from kunren.page import AppOptions
from kunren.page.push import Changes, PushOptions
from kunren.record.events import DrillEnded, Inject, Milestone, ParticipantJoined
from kunren.runtime.clock import VirtualClock
from tests.page.conftest import HTTP_TIMEOUT_S, Browserless, LiveDrill, make_drill, stop_drill

MESSAGE_DEADLINE_S = 30.0  # the server's keep-alive comments (15 s) reset the client's timeout
WHOLE = {"now", "speed", "ended", "over", "injects", "failing", "milestones", "summary"}
CLOCK = {"now", "speed"}


class EventStream:
    """One open ``text/event-stream`` response, parsed into its messages."""

    def __init__(self, http: httpx.Client, path: str) -> None:
        self._opened: AbstractContextManager[httpx.Response] = http.stream(
            "GET", path, headers={"Accept": "text/event-stream"}
        )
        self.response = self._opened.__enter__()
        self._lines: Iterator[str] = self.response.iter_lines()
        self.retry: int | None = None
        self.comments = 0

    def next(self) -> dict[str, Any] | None:
        """The next message's JSON, or None when the server ended the stream."""
        data: list[str] = []
        deadline = time.monotonic() + MESSAGE_DEADLINE_S
        for line in self._lines:
            assert time.monotonic() < deadline, f"no message in {MESSAGE_DEADLINE_S:g} s"
            if line == "":
                if data:
                    payload: dict[str, Any] = json.loads("\n".join(data))
                    return payload
                continue
            if line.startswith(":"):
                self.comments += 1
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            elif name == "retry":
                self.retry = int(value)
        return None

    def next_comment(self) -> str:
        """The next comment line (``: …``), skipping anything else."""
        for line in self._lines:
            if line.startswith(":"):
                self.comments += 1
                return line
        raise AssertionError("the stream ended before a comment")

    def next_with(self, key: str) -> dict[str, Any]:
        """The next message carrying ``key``; those before it may only move the clock (a
        virtual clock advanced by the test is pushed when it jumps)."""
        for _ in range(50):
            payload = self.next()
            assert payload is not None, f"the stream ended before a message with {key!r}"
            if key in payload:
                return payload
            assert set(payload) == CLOCK, f"unexpected message before {key!r}: {payload}"
        raise AssertionError(f"no message with {key!r} in 50")

    def close(self) -> None:
        self._opened.__exit__(None, None, None)


@pytest.fixture
def stream_of() -> Iterator[Callable[[Browserless, str], EventStream]]:
    opened: list[EventStream] = []

    def open_stream(session: Browserless, path: str = "/api/stream") -> EventStream:
        stream = EventStream(session.http, path)
        opened.append(stream)
        return stream

    yield open_stream
    for stream in opened:
        stream.close()


def test_a_stream_sends_the_whole_state_then_what_changes_and_ends_with_the_drill(
    drill: LiveDrill,
    session_for: Callable[..., Browserless],
    stream_of: Callable[[Browserless, str], EventStream],
) -> None:
    ben = session_for()
    ben.join("Ben", "sre")
    stream = stream_of(ben, "/api/stream")
    assert stream.response.status_code == 200
    assert stream.response.headers["content-type"].startswith("text/event-stream")
    assert stream.response.headers["cache-control"] == "no-store"
    first = stream.next()
    assert first is not None and set(first) == WHOLE
    assert (first["milestones"], first["injects"], first["ended"]) == ({}, [], None)
    assert stream.retry == 200  # the browser reconnects at the page's poll interval

    facilitator = session_for(drill.ftoken, "/facilitator")
    drill.clock.advance(120)
    marked = facilitator.post(
        "/facilitator/mark", {"milestone": "triaged", "role": "sre", "person": "Ben"}
    )
    assert marked.status_code == 200, marked.text
    mark = stream.next_with("milestones")
    assert mark["milestones"] == {"triaged": "Recorded at T+02:00"}
    assert "injects" not in mark  # only Ben's own part changed

    # written the way the conductor writes (not through the page): found by the watcher
    drill.control.record(Inject(kind="inquiry", text="A customer calls", to=["sre"]))
    inject = stream.next_with("injects")
    assert [(i["label"], i["text"], i["at"]) for i in inject["injects"]] == [
        ("Customer inquiry", "A customer calls", "02:00")
    ]
    assert "milestones" not in inject  # the role's part, shared by every sre page

    drill.control.record(DrillEnded())
    last = stream.next_with("ended")
    assert set(last) == WHOLE and last["ended"] == "The drill has ended."
    assert stream.next() is None  # the stream ends with the drill


def test_a_mark_reaches_only_the_streams_of_its_person(
    drill: LiveDrill,
    session_for: Callable[..., Browserless],
    stream_of: Callable[[Browserless, str], EventStream],
) -> None:
    aiko, ben = session_for(), session_for()
    aiko.join("Aiko", "support")
    ben.join("Ben", "sre")
    aiko_stream, ben_stream = stream_of(aiko, "/api/stream"), stream_of(ben, "/api/stream")
    assert aiko_stream.next() is not None and ben_stream.next() is not None
    assert ben.post("/milestone", {"milestone": "detected"}).json()["ok"] is True
    assert ben_stream.next_with("milestones")["milestones"] == {"detected": "Recorded at T+00:00"}
    # recorded after Ben's mark: had Ben's mark woken Aiko's stream, that message came first
    drill.control.record(Inject(kind="announcement", text="Status call at 10:30"))
    told = aiko_stream.next_with("injects")
    assert [i["text"] for i in told["injects"]] == ["Status call at 10:30"]
    assert ben_stream.next_with("injects")["injects"] == told["injects"]


def test_the_stream_says_when_the_drill_time_is_over(
    drill: LiveDrill,
    session_for: Callable[..., Browserless],
    stream_of: Callable[[Browserless, str], EventStream],
) -> None:
    ben = session_for()
    ben.join("Ben", "sre")
    stream = stream_of(ben, "/api/stream?lang=ja")
    first = stream.next()
    assert first is not None and first["over"] is False
    drill.clock.advance(3600)  # no event says so: the watcher sees the clock pass the duration
    over = stream.next_with("over")
    assert (over["over"], over["ended"]) == (True, None)
    assert "now" not in over  # a role's pushed part leaves the clock to the page
    assert stream.next_with("now") == {"now": 3600.0, "speed": 0.0}  # the virtual clock moved


def test_an_amended_mark_reaches_its_persons_stream_with_the_new_time(
    drill: LiveDrill,
    session_for: Callable[..., Browserless],
    stream_of: Callable[[Browserless, str], EventStream],
) -> None:
    ben = session_for()
    ben.join("Ben", "sre")
    seq = ben.post("/milestone", {"milestone": "detected"}).json()["seq"]
    stream = stream_of(ben, "/api/stream")
    first = stream.next()
    assert first is not None and first["milestones"] == {"detected": "Recorded at T+00:00"}
    facilitator = session_for(drill.ftoken, "/facilitator")
    amended = facilitator.post("/facilitator/amend", {"seq": str(seq), "at": "4:00", "reason": "x"})
    assert amended.status_code == 200, amended.text
    assert stream.next_with("injects")["injects"] == []  # the role's part: an inject might move
    moved = stream.next_with("milestones")
    assert moved["milestones"] == {"detected": "Recorded at T+04:00"}


def test_the_facilitator_stream_sends_new_rows_and_the_people_who_joined(
    drill: LiveDrill,
    session_for: Callable[..., Browserless],
    stream_of: Callable[[Browserless, str], EventStream],
) -> None:
    facilitator = session_for(drill.ftoken, "/facilitator")
    stream = stream_of(facilitator, "/api/timeline/stream?after=0")
    first = stream.next()
    assert first is not None
    assert [r["type"] for r in first["events"]] == ["drill.started"]
    assert first["participants"] == []
    ben = session_for()
    ben.join("Ben", "sre")
    joined = stream.next_with("events")
    assert [r["type"] for r in joined["events"]] == ["participant.joined"]
    assert [(p["key"], p["actor"]) for p in joined["people"]] == [("sre:Ben", "Ben")]
    assert "participants" not in joined  # the people who changed, not everyone again
    assert ben.post("/milestone", {"milestone": "detected"}).json()["ok"] is True
    marked = stream.next_with("events")
    assert [r["detail"] for r in marked["events"]] == [
        "Ben (SRE): I noticed a problem (on the page)"
    ]
    assert "people" not in marked and "participants" not in marked  # nobody joined


def test_a_participant_token_cannot_open_the_facilitator_stream(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    ben = session_for()
    reply = ben.http.get("/api/timeline/stream", headers={"Accept": "text/event-stream"})
    assert reply.status_code == 403
    assert reply.headers["content-type"].startswith("application/json")
    assert "for the facilitator only" in reply.json()["error"]


def test_presses_of_one_milestone_at_once_from_several_tabs_record_it_once(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    tabs = [session_for() for _ in range(8)]  # Ben's phone, laptop, a second window…

    async def everyone(path: str, form: dict[str, str]) -> list[dict[str, Any]]:
        async def post(tab: Browserless) -> dict[str, Any]:
            async with httpx.AsyncClient(
                base_url=drill.url, cookies=tab.http.cookies, timeout=HTTP_TIMEOUT_S
            ) as http:
                reply = await http.post(
                    path, data={"csrf": tab.csrf, **form}, headers={"Accept": "application/json"}
                )
                assert reply.status_code == 200, reply.text
                answer: dict[str, Any] = reply.json()
                return answer

        return await asyncio.gather(*(post(tab) for tab in tabs))

    asyncio.run(everyone("/join", {"name": "Ben", "role": "sre"}))
    answers = asyncio.run(everyone("/milestone", {"milestone": "detected"}))
    assert all(a["ok"] for a in answers)
    events = drill.events()
    assert [e.actor for e in events if isinstance(e, ParticipantJoined)] == ["Ben"]
    marks = [e for e in events if isinstance(e, Milestone)]
    assert [(m.actor, m.name) for m in marks] == [("Ben", "detected")]
    assert {a["seq"] for a in answers} == {marks[0].seq}  # each tab was told the one event


def test_stopping_the_server_ends_open_streams_instead_of_waiting_for_them(
    drill: LiveDrill,
    session_for: Callable[..., Browserless],
    caplog: pytest.LogCaptureFixture,
) -> None:
    ben = session_for()
    ben.join("Ben", "sre")

    async def hold_streams_then_stop() -> list[str]:
        async with httpx.AsyncClient(
            base_url=drill.url, cookies=ben.http.cookies, timeout=HTTP_TIMEOUT_S
        ) as http:
            responses = [
                await http.send(http.build_request("GET", "/api/stream"), stream=True)
                for _ in range(20)
            ]
            lines = [response.aiter_lines() for response in responses]
            for each in lines:  # each is open and has sent its first state
                while not (await anext(each)).startswith("data:"):
                    pass
            stopping = asyncio.run_coroutine_threadsafe(drill.server.stop(), drill.loop.loop)
            ends = []
            for response, each in zip(responses, lines, strict=True):
                try:
                    rest = [line async for line in each]
                    ends.append("ended" if not any(rest) else f"more: {rest}")
                except httpx.HTTPError as exc:  # cut off rather than ended
                    ends.append(f"broken: {exc!r}")
                await response.aclose()
            await asyncio.wait_for(asyncio.wrap_future(stopping), 10.0)
            return ends

    with caplog.at_level(logging.INFO, logger="uvicorn.error"):
        ends = asyncio.run(hold_streams_then_stop())
    assert ends == ["ended"] * 20  # each response finished properly: nothing was cut off
    assert not drill.server.running
    assert not [r for r in caplog.records if "graceful shutdown exceeded" in r.getMessage()]


def test_an_end_recorded_just_before_the_server_stops_is_each_streams_last_message(
    tmp_path: Path,
) -> None:
    # the watcher looks once a minute here: only the stop itself can find the end in time
    drill = make_drill(tmp_path, options=AppOptions(poll_seconds=0.2, watch_seconds=60.0))
    try:
        people = [Browserless(drill, drill.ptoken) for _ in range(3)]
        for n, person in enumerate(people):
            person.join(f"person-{n}", "sre")
        streams = [EventStream(person.http, "/api/stream") for person in people]
        assert all(stream.next() is not None for stream in streams)
        drill.control.record(DrillEnded())  # the conductor's write, then at once its stop
        drill.loop.run(drill.server.stop())
        for stream in streams:
            assert stream.next_with("ended")["ended"] == "The drill has ended."
            assert stream.next() is None
            stream.close()
        for person in people:
            person.close()
    finally:
        stop_drill(drill)


def test_an_idle_stream_carries_keep_alive_comments_and_stays_open(tmp_path: Path) -> None:
    drill = make_drill(tmp_path, options=AppOptions(poll_seconds=0.2, keepalive_seconds=0.1))
    try:
        ben = Browserless(drill, drill.ptoken)
        ben.join("Ben", "sre")
        stream = EventStream(ben.http, "/api/stream")
        assert stream.next() is not None
        assert [stream.next_comment() for _ in range(3)] == [": keep-alive"] * 3
        drill.control.record(Inject(kind="announcement", text="still here"))
        assert [i["text"] for i in stream.next_with("injects")["injects"]] == ["still here"]
        stream.close()
        ben.close()
    finally:
        stop_drill(drill)


def test_a_page_that_goes_away_is_forgotten_at_once_not_at_its_next_keep_alive(
    tmp_path: Path,
) -> None:
    # keep-alive once a minute: only hearing the connection close can end the stream in time
    drill = make_drill(tmp_path, options=AppOptions(poll_seconds=0.2, keepalive_seconds=60.0))
    try:
        changes: Changes = drill.app.state.web.changes
        ben = Browserless(drill, drill.ptoken)
        ben.join("Ben", "sre")
        streams = [EventStream(ben.http, "/api/stream") for _ in range(3)]
        assert all(stream.next() is not None for stream in streams)
        assert changes.listening == 3
        for stream in streams[:2]:
            stream.close()
        deadline = time.monotonic() + 10.0
        while changes.listening > 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert changes.listening == 1  # the two closed pages are no longer told anything
        drill.control.record(Inject(kind="announcement", text="still here"))
        assert [i["text"] for i in streams[2].next_with("injects")["injects"]] == ["still here"]
        streams[2].close()
        ben.close()
    finally:
        stop_drill(drill)


# ---------------------------------------------------------------------- the change notification


def test_a_stopped_clock_moved_before_the_first_look_is_still_told() -> None:
    """A page opened on a stopped (virtual) clock shows the time of its first state; a jump
    made before the watcher's first look must still reach it (it once set its reference to
    the new time, and the page kept showing the old one)."""
    clock = VirtualClock()
    changes = Changes(clock, 3600.0, PushOptions(15.0, 0.25, 3000))
    sub = changes.subscribe("sre", "ben")
    clock.advance(3600)
    changes._clock_moved(ticking=False)  # the watcher's first look
    assert sub.take() == {"role", "clock"}  # "drill over" and the clock's new time
    clock.advance(0.5)
    changes._clock_moved(ticking=False)
    assert sub.take() == set()  # less than a second: the page's clock is left alone
    changes.unsubscribe(sub)


def test_each_roles_state_is_built_once_per_change_for_all_its_pages() -> None:
    changes = Changes(VirtualClock(), 3600.0, PushOptions(15.0, 0.25, 3000))
    sre = [changes.subscribe("sre", f"sre-{n}") for n in range(5)]
    support = changes.subscribe("support", "aiko")
    facilitator = changes.subscribe(None, None, facilitator=True)
    built: list[str] = []

    def build() -> str:
        built.append("sre")
        return f"message {len(built)}"

    changes.publish([Inject(seq=2, kind="inquiry", text="for sre", to=["sre"])])
    assert [sub.take() for sub in sre] == [{"role"}] * 5
    assert (support.take(), facilitator.take()) == (set(), {"timeline"})
    assert {changes.shared("sre", "en", build) for _ in sre} == {"message 1"}
    assert built == ["sre"]  # five pages, one build

    changes.publish([Milestone(seq=3, name="detected", actor="sre-1", role="sre")])
    assert [sub.take() for sub in sre] == [set(), {"own"}, set(), set(), set()]
    assert changes.shared("sre", "en", build) == "message 1"  # the role's part is unchanged
    assert changes.shared("sre", "ja", build) == "message 2"  # one build per language

    changes.publish([DrillEnded(seq=4)])
    assert all(sub.take() == {"end"} for sub in [*sre, support])
    assert facilitator.take() == {"end", "timeline"}
    for sub in [*sre, support, facilitator]:
        changes.unsubscribe(sub)
    assert changes.listening == 0
