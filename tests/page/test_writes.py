"""The page's writes: a mark asked for just before the server stops is refused, never an error.

``Writes.record`` checks that the server is not stopping, then starts the write as a task,
whose first step runs a loop turn later. A stop in between (the conductor stopping the drill
because the disk is full, while people still press) shut the write threads down first, and the
task's hand-off to them raised "cannot schedule new futures after shutdown": a traceback in
the conductor's log instead of the page's "the drill is stopping" answer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kunren.page.control import LocalDrillControl
from kunren.page.state import DrillView
from kunren.page.writes import PageStopping, Writes
from kunren.record.eventlog import EventLog
from kunren.record.events import Milestone
from kunren.runtime.clock import VirtualClock
from kunren.scenarios.models import Scenario


def _writes(tmp_path: Path) -> tuple[Writes, EventLog]:
    scenario = Scenario.model_validate({"version": 1, "id": "s", "title": "t", "duration": "60m"})
    log = EventLog.create(tmp_path / "drills" / "d-1", "version: 1\n")
    control = LocalDrillControl(
        scenario,
        log,
        VirtualClock(),
        participant_token="participant-" + "p" * 20,
        facilitator_token="facilitator-" + "f" * 20,
    )
    return Writes(control, DrillView(control)), log


def _mark(actor: str) -> Milestone:
    return Milestone(name="detected", actor=actor, role="sre", source="participant")


def test_a_write_started_just_before_the_stop_is_refused_as_stopping(tmp_path: Path) -> None:
    writes, log = _writes(tmp_path)

    async def pressed_as_the_server_stops() -> None:
        written, _ = await writes.record(_mark("alice"))  # before the stop: on disk
        assert written.seq == 1
        pressed = asyncio.ensure_future(writes.record(_mark("bob")))
        await asyncio.sleep(0)  # bob's write task is made, its first step not yet run
        writes.close()  # the server stops: the write threads are let go
        with pytest.raises(PageStopping):
            await pressed

    asyncio.run(pressed_as_the_server_stops())
    assert [e.actor for e in log.read() if isinstance(e, Milestone)] == ["alice"]
    log.close()


def test_a_write_asked_for_after_the_stop_is_refused_as_stopping(tmp_path: Path) -> None:
    writes, log = _writes(tmp_path)
    writes.close()

    with pytest.raises(PageStopping):
        asyncio.run(writes.record(_mark("carol")))
    assert log.read() == []
    log.close()
