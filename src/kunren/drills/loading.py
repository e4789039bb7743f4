"""The drill's load: Locust driven on the drill clock, its numbers recorded as events.

On a real or scaled clock this starts Locust (in its own processes, see
``kunren.injectors.locust_load``), moves it through the scenario's stages and records
``load.stats`` for each interval. On the virtual clock no load is generated: the stages are
recorded as planned, so a rehearsal still shows when the spike would come.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from kunren.drills.interrupt import unless_set
from kunren.errors import KunrenError
from kunren.record.events import Event, LoadLost, LoadStage, Note
from kunren.runtime.clock import is_virtual
from kunren.runtime.context import DrillContext
from kunren.scenarios.models import Load

if TYPE_CHECKING:  # imported when load really runs: a virtual-clock drill never needs it
    from kunren.injectors.locust_load import LoadDriver

# Locust's numbers move about once a real second: polling faster only records noise.
MIN_STATS_REAL_SECONDS = 2.0

Record = Callable[[Event], Event]


class LoadRun:
    def __init__(self, ctx: DrillContext, load: Load | None, record: Record) -> None:
        self.ctx = ctx
        self.load = load
        self.record = record
        self.driver: LoadDriver | None = None

    @property
    def generates_load(self) -> bool:
        return self.load is not None and not is_virtual(self.ctx.clock)

    async def start(self, abort: asyncio.Event | None = None) -> None:
        """Start Locust and wait until it is ready; ``abort`` set meanwhile (a stop signal)
        ends the wait at once: the processes are ended and KunrenError says so."""
        if not self.generates_load or self.load is None or self.ctx.drill_dir is None:
            return
        from kunren.injectors.locust_load import LoadDriver

        driver = LoadDriver(self.ctx, self.load, self.ctx.drill_dir / "load")
        self.driver = driver
        with self.ctx.clock.busy():
            started = await unless_set(self._started(driver), abort)
        if started is None:
            self.driver = None  # its start was cancelled: it ended its processes itself
            raise KunrenError("load: stopped while Locust was starting")

    @staticmethod
    async def _started(driver: LoadDriver) -> bool:
        await driver.start()
        return True

    async def resume_stage(self, resume_at: float | None) -> None:
        """On resume, carry on with the load stage the drill was in."""
        if resume_at is None or self.load is None:
            return
        past = [s for s in self.load.stages if s.at <= resume_at]
        if past:
            await self.set_stage(past[-1].users, past[-1].spawn_rate)

    async def set_stage(self, users: int, spawn_rate: float) -> None:
        """Move the load; with the master lost, the stage is recorded as planned only."""
        if self.driver is not None and not await self._watch_processes():
            from kunren.injectors.locust_load import MasterLost

            try:
                with self.ctx.clock.busy():
                    await self.driver.set_stage(users, spawn_rate)
            except MasterLost:
                await self._watch_processes()
        self.record(LoadStage(users=users, spawn_rate=spawn_rate, planned=self.driver is None))

    async def _watch_processes(self) -> bool:
        """Record Locust processes that exited by themselves; True when the master is among
        them, in which case the rest of the load is stopped (the drill goes on without it)."""
        if self.driver is None:
            return True
        lost = self.driver.lost()
        master = any(process.master for process in lost)
        for process in lost:
            self.record(
                LoadLost(
                    process=process.name,
                    code=process.code,
                    detail=process.detail,
                    load_stopped=process.master,
                )
            )
        if master:
            await self.stop()
        return master

    def tasks(self, duration: float) -> list[asyncio.Task[None]]:
        if self.driver is None or self.load is None:
            return []
        every = max(self.load.stats_every, MIN_STATS_REAL_SECONDS * self.ctx.clock.speed)
        return [asyncio.create_task(self._poll(every, duration), name="load-stats")]

    async def _poll(self, every: float, duration: float) -> None:
        next_at = self.ctx.clock.now() + every
        for _ in range(int(duration / every) + 2):
            await self.ctx.clock.sleep_until(next_at)
            if self.driver is None or await self._watch_processes():
                return
            try:
                stats = await self.driver.poll_stats()
            except KunrenError as exc:
                if await self._watch_processes():
                    return  # the master went while polling: recorded as load.lost
                # The drill goes on without load rather than stopping: say so in the record.
                self.record(Note(text=f"load statistics unavailable, load may have stopped: {exc}"))
                return
            if stats is not None:
                self.record(stats)
            next_at += every

    async def stop(self) -> None:
        if self.driver is None:
            return
        driver, self.driver = self.driver, None
        try:
            stats = await driver.stop()
        except KunrenError as exc:
            self.record(Note(text=f"stopping load failed: {exc}"))
            return
        if stats is not None:
            self.record(stats)
