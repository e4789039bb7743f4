"""Watching the system: each probe on its interval, state changes logged, stop conditions held.

Only changes are recorded (``probe.failed`` / ``probe.recovered``), which keeps the record small
and makes the first failure the moment impact started. A stop condition turns a probe failing
for too long into an abort: the drill itself must never become the outage. A probe is plugin
code: whatever its ``check`` raises comes through ``kunren.runtime.seam`` as a failed check
naming the plugin, never the end of the probe's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from kunren import plugins
from kunren.durations import format_duration
from kunren.errors import KunrenError
from kunren.probes.base import PROBES, AnyProbe, ProbeResult
from kunren.record.events import Event, ProbeFailed, ProbeRecovered
from kunren.runtime.clock import is_virtual
from kunren.runtime.context import DrillContext
from kunren.runtime.seam import PluginRef, call, call_sync
from kunren.scenarios.models import ProbeSpec

Record = Callable[[Event], Event]
Abort = Callable[[str], None]

PROBE_OFFSET = 1.0  # drill seconds after a step grid point that checks run
CHECK_TIMEOUT = 30.0  # real seconds: a probe that hangs longer counts as failed
# On the virtual clock a whole drill takes a second or two, so a check that hangs (a frozen
# service) must not hold it for its full timeout: a healthy local service answers in ms.
VIRTUAL_CHECK_TIMEOUT = 0.25


@dataclass(frozen=True)
class _Watch:
    """What every check of one probe needs, worked out once per drill instead of per check:
    a probe checked every second for a day is checked 86,400 times."""

    spec: ProbeSpec
    probe: AnyProbe
    ref: PluginRef
    limit: float  # real seconds a check may take
    virtual: bool


@dataclass
class ProbeState:
    ok: bool | None = None  # None: not checked yet
    failing_since: float | None = None
    detail: str = ""
    checks: int = 0


@dataclass
class ProbeRunner:
    ctx: DrillContext
    record: Record
    abort: Abort
    probes: dict[str, AnyProbe] = field(default_factory=dict)
    states: dict[str, ProbeState] = field(default_factory=dict)

    def build(self) -> None:
        for spec in self.ctx.scenario.probes:
            self.probes[spec.id] = self._make(spec)
            self.states[spec.id] = ProbeState()

    def _make(self, spec: ProbeSpec) -> AnyProbe:
        ref = PluginRef(PROBES.name, spec.kind)
        cls = call_sync(ref, "loading", lambda: plugins.require(PROBES, spec.kind))
        params = self.ctx.params.of("probes", spec.id, PROBES, spec.kind, spec.params)
        probe: AnyProbe = call_sync(ref, "construction", lambda: cls(self.ctx, spec, params))
        return probe

    def tasks(self, start: float, end: float) -> list[asyncio.Task[None]]:
        return [
            asyncio.create_task(self._loop(spec, start, end), name=f"probe:{spec.id}")
            for spec in self.ctx.scenario.probes
        ]

    async def _loop(self, spec: ProbeSpec, start: float, end: float) -> None:
        # Checks run a little after the whole seconds that scenario steps use, so a check never
        # competes with a step due at the same instant: it sees the step's effect, and the step
        # fires on time.
        watch = self._watch(spec)
        next_at = start + min(spec.every / 2, PROBE_OFFSET)
        max_checks = int((end - start) / spec.every) + 2
        sleep_until = self.ctx.clock.sleep_until
        for _ in range(max_checks):
            if next_at > end:
                return
            await sleep_until(next_at)
            await self._check(watch)
            next_at += spec.every

    async def check_once(self, spec: ProbeSpec) -> ProbeResult:
        return await self._check(self._watch(spec))

    def _watch(self, spec: ProbeSpec) -> _Watch:
        virtual = is_virtual(self.ctx.clock)
        return _Watch(
            spec=spec,
            probe=self.probes[spec.id],
            ref=PluginRef(PROBES.name, spec.kind),
            limit=VIRTUAL_CHECK_TIMEOUT if virtual else CHECK_TIMEOUT,
            virtual=virtual,
        )

    async def _check(self, watch: _Watch) -> ProbeResult:
        probe, ref, limit = watch.probe, watch.ref, watch.limit
        with self.ctx.clock.busy():  # the seam inside the timeout, so a hang still times out
            try:
                # asyncio.timeout, not wait_for: the check runs in this task instead of a new
                # one, a third of the cost of a check that has nothing to report
                async with asyncio.timeout(limit):
                    result = await call(ref, "check", probe.check)
            except TimeoutError:
                result = ProbeResult(False, _timed_out(probe, limit, watch.virtual))
            except KunrenError as exc:
                result = ProbeResult(False, str(exc))
        if not isinstance(result, ProbeResult):
            result = ProbeResult(False, f"{ref}: check returned {type(result).__name__}")
        self._observe(watch.spec, result)
        return result

    def _observe(self, spec: ProbeSpec, result: ProbeResult) -> None:
        state = self.states[spec.id]
        now = self.ctx.clock.now()
        state.checks += 1
        state.detail = result.detail
        if result.ok and state.ok is False:
            self.record(ProbeRecovered(probe=spec.id, detail=result.detail))
            state.failing_since = None
        elif not result.ok and state.ok is not False:
            self.record(ProbeFailed(probe=spec.id, detail=result.detail))
            state.failing_since = now
        state.ok = result.ok
        self._hold_stop_conditions(spec.id, now)

    def _hold_stop_conditions(self, probe_id: str, now: float) -> None:
        state = self.states[probe_id]
        if state.failing_since is None:
            return
        for stop in self.ctx.scenario.stop_conditions:
            if stop.probe == probe_id and now - state.failing_since >= stop.failing_for:
                self.abort(
                    f"stop condition: probe {probe_id} failing for "
                    f"{format_duration(now - state.failing_since)} ({state.detail})"
                )

    async def close(self) -> None:
        for spec_id, probe in self.probes.items():
            ref = PluginRef(PROBES.name, probe.spec.kind)
            with contextlib.suppress(KunrenError):
                await call(ref, f"close of {spec_id}", probe.close)


def _timed_out(probe: AnyProbe, limit: float, virtual: bool) -> str:
    """Say when the limit that cut a check is not the one the scenario gave the probe."""
    own = getattr(probe.params, "timeout", None)
    if virtual and isinstance(own, int | float) and own != limit:
        return (
            f"no answer within {limit:g}s (the virtual clock's limit for every check; "
            f"the scenario's timeout is {format_duration(own)})"
        )
    return f"no answer within {limit:g}s"
