"""Serving inside an existing loop: start, links, stop; and what importing the package costs."""

from __future__ import annotations

import asyncio
import json
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from kunren.drills.serving import (
    TOKENS_FILE,
    ConductorControl,
    WebOptions,
    drill_tokens,
    start_web,
)
from kunren.record.eventlog import EventLog
from kunren.record.events import Event, Milestone, Runbook
from kunren.record.recorder import Recorder
from kunren.runtime.clock import VirtualClock
from kunren.scenarios.models import Scenario
from tests.page.conftest import SCENARIO


def test_importing_the_package_does_not_import_starlette_or_uvicorn() -> None:
    code = (
        "import sys, kunren.page, kunren.drills.serving;"
        "print(sorted(m for m in ('starlette', 'uvicorn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class FakeConductor:
    """The attributes of Conductor that conductor_link uses, over a real log."""

    def __init__(self, drill_dir: Path) -> None:
        self.scenario = Scenario.model_validate(SCENARIO)
        self.clock = VirtualClock(start=12.0)
        self.log = EventLog.create(drill_dir, "version: 1\n")
        self.options = SimpleNamespace(drill_id=drill_dir.name)
        self.recorder = Recorder(self.log, self.clock)
        self.observed: list[Event] = []
        self.aborted: list[str] = []

    def record(self, event: Event, at: float | None = None) -> Event:
        written = self.recorder.record(event, at)
        self.observed.append(written)
        return written

    def abort(self, reason: str) -> None:
        self.aborted.append(reason)

    async def run_runbook(self, runbook_id: str, actor: str, role: str) -> Runbook:
        event = self.record(Runbook(runbook=runbook_id, actor=actor, role=role, detail="done"))
        assert isinstance(event, Runbook)
        return event


def test_start_web_serves_the_conductors_drill_and_announces_the_links(tmp_path: Path) -> None:
    conductor = FakeConductor(tmp_path / "web-outage-1")
    lines: list[str] = []

    async def scenario() -> tuple[int, int, int]:
        server = await start_web(conductor, WebOptions(port=0, announce=lines.append))
        try:
            async with httpx.AsyncClient() as http:
                join = await http.get(lines[0].split()[-1])
                facilitator = await http.get(lines[1].split()[-1])
            async with httpx.AsyncClient() as fresh:
                wrong = await fresh.get(server.url + "/?token=nope")
        finally:
            await server.stop()
            await server.stop()  # stopping twice is harmless
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient() as late:
                await late.get(server.url + "/")
        return join.status_code, facilitator.status_code, wrong.status_code

    assert asyncio.run(scenario()) == (303, 303, 401)
    assert lines[0].startswith("Participants join at: http://127.0.0.1:")
    assert "/facilitator?token=" in lines[1] and "/intake/alertmanager?token=" in lines[2]


def test_the_conductor_control_records_through_the_conductor(tmp_path: Path) -> None:
    conductor = FakeConductor(tmp_path / "web-outage-2")
    control = ConductorControl(conductor, drill_tokens(conductor.log.drill_dir))
    written = control.record(Milestone(name="detected", actor="Aiko", role="support"))
    assert conductor.observed == [written] and written.at == 12.0
    assert control.events() == [written] and control.events(after=written.seq) == []
    asyncio.run(control.abort("fire alarm", "Kim"))
    assert conductor.aborted == ["fire alarm (aborted by Kim from the facilitator view)"]


def test_drill_tokens_are_made_once_private_and_kept_for_resume(tmp_path: Path) -> None:
    first = drill_tokens(tmp_path)
    again = drill_tokens(tmp_path)
    assert first == again and first.participant != first.facilitator
    path = tmp_path / TOKENS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["participant"] == first.participant
