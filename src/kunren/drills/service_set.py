"""The scenario's services during one drill: started in order, each stop on the finish path.

``kunren.drills.services`` runs one service (its process group, its ready wait, its stop).
This module is the drill's side of it: every service is started before the drill begins and
its stop is pushed onto the finish path the moment it is started, so a service is stopped
whatever ends the run; each stop is recorded once the drill has started (before that there is
no record to say it in), and one still running after SIGKILL is kept as loudly as a failed
revert (``unstopped``). A service that exits by itself mid-drill is recorded with its code.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kunren.drills.faults import Record, note
from kunren.record.events import Note, ServiceExited, ServiceStarted, ServiceStopped
from kunren.runtime.clock import Clock
from kunren.scenarios.models import Service

if TYPE_CHECKING:
    from kunren.drills.services import ManagedService

Push = Callable[[str, Callable[[], Awaitable[object]]], None]  # FinishPath.push


class ServiceSet:
    """The drill's running services (``running``, shared with plugins through the context)."""

    def __init__(
        self,
        specs: dict[str, Service],
        scenario_dir: Path,
        drill_dir: Path,
        clock: Clock,
        record: Record,
        recording: Callable[[], bool],
    ) -> None:
        self.specs = specs
        self.scenario_dir = scenario_dir
        self.drill_dir = drill_dir
        self.clock = clock
        self.record = record
        self.recording = recording  # drill.started is recorded: stops can be recorded too
        self.running: dict[str, ManagedService] = {}
        self.stopped: list[str] = []
        self.unstopped: list[str] = []  # services still running after SIGKILL

    async def start_all(self, push: Push, abort: asyncio.Event) -> list[ServiceStarted]:
        """Start every service and wait until ready; recorded once the drill has started."""
        if not self.specs:
            return []
        # A drill without services never imports kunren.drills.services (urllib.request,
        # http.client and ctypes for its ready checks and its parent-death signal: ~7 ms).
        from kunren.drills.services import ManagedService

        started = []
        for name, spec in self.specs.items():
            service = ManagedService(name, spec, self.scenario_dir, self.drill_dir / "services")
            self.running[name] = service  # plugins see it through ctx.services
            push(f"stopping service {name}", functools.partial(self.stop, service))
            with self.clock.busy():
                pid = await service.start(abort=abort)
            started.append(ServiceStarted(name=name, pid=pid, command=service.command))
        return started

    def watch_all(self) -> None:
        """From now on, a service that exits by itself is recorded with its code."""
        for service in self.running.values():
            service.watch(self._exited)

    async def stop(self, service: ManagedService) -> None:
        with self.clock.busy():
            result = await service.stop()
        if not result.signalled:
            return
        if not result.ok:  # still running after SIGKILL: as loud as a failed revert
            self.unstopped.append(service.name)
            if self.recording():
                note(
                    self.record,
                    Note(text=f"service {service.name}: {result.detail}; stop it by hand"),
                )
            return
        self.stopped.append(service.name)
        if self.recording():
            note(self.record, ServiceStopped(name=service.name, detail=result.detail))

    def _exited(self, name: str, code: int) -> None:
        self.record(ServiceExited(name=name, code=code))
