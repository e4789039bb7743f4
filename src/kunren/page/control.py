"""What the participant web app needs from whoever runs the drill, and a small local stand-in.

The conductor owns the drill: the clock, the event log, the injectors, abort and revert. The web
app only asks it for a few things, written down here as ``DrillControl`` so the app can be
built, tested and run without the conductor (``LocalDrillControl``: a tabletop drill, a demo,
the tests). The app records participants' own events (joins, milestones, readiness, notes,
alerts, amendments) through ``control.record``; anything that acts on the system (a runbook,
an abort) goes back to the control, which records the result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from kunren import plugins
from kunren.errors import KunrenError, reason
from kunren.injectors.base import INJECTORS, AnyInjector, Injected
from kunren.injectors.requests import request_for_runbook
from kunren.record.eventlog import EventLog
from kunren.record.events import (
    DrillAborted,
    Event,
    FaultFailed,
    FaultInjected,
    FaultInjecting,
    Runbook,
)
from kunren.record.mirror import LogMirror as LogMirror  # its home is the record layer
from kunren.record.recorder import Recorder
from kunren.runtime.clock import Clock
from kunren.runtime.context import DrillContext, drill_context
from kunren.runtime.seam import PluginRef, call, call_sync
from kunren.scenarios.models import RunbookSpec, Scenario

RunbookResult = Literal["ok", "failed", "refused"]


class DrillControl(Protocol):
    """Whoever runs the drill, as the participant web app sees it: the conductor (through
    ``kunren.drills.serving``), or ``LocalDrillControl`` for tabletop drills and tests."""

    @property
    def scenario(self) -> Scenario: ...

    @property
    def drill_id(self) -> str: ...

    @property
    def clock(self) -> Clock:
        """The drill clock: the page shows ``now()`` and ticks at ``speed``."""
        ...

    @property
    def participant_token(self) -> str: ...

    @property
    def facilitator_token(self) -> str: ...

    def record(self, event: Event) -> Event:
        """Stamp ``event`` with the drill clock, append it (fsync'd) and return it with its
        seq; it must be visible to ``events()`` as soon as this returns."""
        ...

    def events(self, after: int = 0) -> list[Event]:
        """Every recorded event with ``seq > after``, in order. The app polls with the last
        seq it has seen, so this should be cheap (an in-memory list, an incremental read)."""
        ...

    async def run_runbook(self, runbook_id: str, actor: str, role: str) -> Runbook:
        """Run the scenario's runbook for ``actor`` in ``role`` and record the ``runbook``
        event with its result (ok / failed / refused); return that recorded event. The app
        has already checked that ``role`` may run it; failures are results, not exceptions."""
        ...

    async def abort(self, reason: str, actor: str) -> None:
        """Stop the drill now: revert every fault and record ``drill.aborted``."""
        ...


@dataclass(frozen=True)
class RunbookOutcome:
    result: RunbookResult
    detail: str = ""


RunbookRunner = Callable[[RunbookSpec], Awaitable[RunbookOutcome]]
"""What acts for a runbook: the conductor's fault manager in a drill, else InjectorRunbooks."""
AbortHook = Callable[[str, str], Awaitable[None]]
Record = Callable[[Event], Event]


async def perform_runbook(
    scenario: Scenario,
    runbook_id: str,
    actor: str,
    role: str,
    runner: RunbookRunner,
    record: Record,
) -> Runbook:
    """The one runbook path, for the page and the CLI, with or without a conductor: look the
    runbook up, hold the role rule (``RunbookSpec.allows``), act through ``runner`` (which
    records intent before acting), and record the ``runbook`` event with its result. A
    failure of any kind is a result: a participant's click must never take the drill down."""
    spec = scenario.runbook(runbook_id)
    if spec is None:
        outcome = RunbookOutcome("refused", f"no runbook {runbook_id!r} in this scenario")
    elif not spec.allows(role):
        outcome = RunbookOutcome("refused", f"role {role} may not run {spec.id}")
    else:
        try:
            outcome = await runner(spec)
        except Exception as exc:  # the plugin's failure is the runbook's result
            outcome = RunbookOutcome("failed", reason(exc))
    event = Runbook(
        runbook=runbook_id, actor=actor, role=role, result=outcome.result, detail=outcome.detail
    )
    written = record(event)
    assert isinstance(written, Runbook)
    return written


class InjectorRunbooks:
    """Runs a runbook through the injector plugin its ``kind`` names (``process.restart``…),
    where no conductor runs (a tabletop drill, a demo). Write-ahead like the conductor:
    ``fault.injecting`` with the planned undo before acting, so ``kunren revert`` can undo a
    reversible runbook from the record; then ``fault.injected`` or ``fault.failed``. Every call
    into the plugin goes through the plugin seam (``kunren.runtime.seam``), as the conductor's
    do: whatever it raises is a failed runbook naming the plugin, and a call that never returns
    is cancelled at its time limit instead of holding the participant's click."""

    def __init__(self, ctx: DrillContext, record: Record) -> None:
        self.ctx = ctx
        self.record = record

    async def __call__(self, spec: RunbookSpec) -> RunbookOutcome:
        ref = PluginRef(INJECTORS.name, spec.kind)
        # not installed: raised, a failed runbook
        cls = call_sync(ref, "loading", lambda: plugins.require(INJECTORS, spec.kind))
        try:  # the same request the conductor builds: parameters checked, key `runbook:<id>`
            request = request_for_runbook(self.ctx, spec)
        except KunrenError as exc:
            return RunbookOutcome("refused", str(exc))
        injector: AnyInjector = call_sync(ref, "construction", lambda: cls(self.ctx, request))
        try:
            await call(ref, "setup", injector.setup)
            injected = await self._act(ref, injector, spec.id)
        finally:
            await call(ref, "close", injector.close)
        return RunbookOutcome("ok", injected.detail or ", ".join(injected.targets))

    async def _act(self, ref: PluginRef, injector: AnyInjector, runbook_id: str) -> Injected:
        request = injector.request
        planned = await call(ref, "plan", injector.plan)
        self.record(
            FaultInjecting(
                fault=request.id,
                kind=request.kind,
                target=request.target_name,
                planned=planned.targets,
                undo=planned.undo,
                revert=planned.revert,
                runbook=runbook_id,
            )
        )
        try:
            injected = await call(ref, "inject", injector.inject)
        except Exception as exc:
            self.record(FaultFailed(fault=request.id, error=reason(exc)))
            raise
        self.record(
            FaultInjected(
                fault=request.id,
                kind=request.kind,
                targets=injected.targets,
                revert=injected.revert,
                detail=injected.detail,
            )
        )
        return injected


class LocalDrillControl:
    """A ``DrillControl`` over an event log and a clock, for tests, demos and tabletop drills.

    Runbooks run through ``runbooks`` (default: the injector plugins); abort records
    ``drill.aborted`` and then calls ``on_abort`` if given.
    """

    def __init__(
        self,
        scenario: Scenario,
        log: EventLog,
        clock: Clock,
        *,
        drill_id: str | None = None,
        participant_token: str,
        facilitator_token: str,
        runbooks: RunbookRunner | None = None,
        on_abort: AbortHook | None = None,
    ) -> None:
        self.scenario = scenario
        self.drill_id = drill_id or log.drill_dir.name
        self.clock = clock
        self.recorder = Recorder(log, clock)
        self.participant_token = participant_token
        self.facilitator_token = facilitator_token
        self._runbooks = runbooks or InjectorRunbooks(
            drill_context(scenario, clock=clock, drill_dir=log.drill_dir), self.record
        )
        self._on_abort = on_abort
        self._mirror = LogMirror(log.path)

    def record(self, event: Event) -> Event:
        return self.recorder.record(event)

    def events(self, after: int = 0) -> list[Event]:
        return self._mirror.since(after)

    async def run_runbook(self, runbook_id: str, actor: str, role: str) -> Runbook:
        return await perform_runbook(
            self.scenario, runbook_id, actor, role, self._runbooks, self.record
        )

    async def abort(self, reason: str, actor: str) -> None:
        self.recorder.record(DrillAborted(reason=f"{reason} (by {actor})"))
        if self._on_abort is not None:
            await self._on_abort(reason, actor)
