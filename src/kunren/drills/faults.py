"""Injecting and reverting faults with the write-ahead rule, live or from the record.

``fault.injecting`` (planned targets, how to undo, and the revert handle when it is known in
advance) is on disk before an injector acts, and ``fault.injected`` (actual targets and the
revert handle) right after. Whatever the log shows injected and not reverted can therefore be
undone later by a new process: at drill end, on abort, or by ``kunren revert`` after a crash.
Runbooks run from the participant page go through the same path, keyed ``runbook:<id>``.

Every call into an injector goes through ``kunren.runtime.seam``: whatever it raises is recorded
as ``fault.failed`` naming the plugin, and the other faults carry on. Undoing comes before
recording: a revert happens even when its ``fault.reverting`` cannot be written (a full disk),
and a fault that acted is remembered as active before ``fault.injected`` is written, so the
finish path can undo it from memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import JsonValue

from kunren import plugins
from kunren.errors import EventLogError, KunrenError
from kunren.injectors.base import INJECTORS, AnyInjector, FaultRequest, Handle, Injected
from kunren.injectors.requests import RUNBOOK_PREFIX, request_for_fault, request_for_runbook
from kunren.record.events import (
    Event,
    FaultFailed,
    FaultInjected,
    FaultInjecting,
    FaultReverted,
    FaultRevertFailed,
    FaultReverting,
    Note,
)
from kunren.runtime.context import DrillContext
from kunren.runtime.seam import PluginRef, call, call_sync, limit_for
from kunren.scenarios.models import RunbookSpec

Record = Callable[[Event], Event]


@dataclass
class ActiveFault:
    key: str
    injector: AnyInjector
    handle: Handle


def make_injector(ctx: DrillContext, request: FaultRequest) -> AnyInjector:
    ref = PluginRef(INJECTORS.name, request.kind)
    cls = call_sync(ref, "loading", lambda: plugins.require(INJECTORS, request.kind))
    injector: AnyInjector = call_sync(ref, "construction", lambda: cls(ctx, request))
    return injector


def ref_of(injector: AnyInjector) -> PluginRef:
    return PluginRef(INJECTORS.name, injector.request.kind)


def limit(ctx: DrillContext, key: str, step: str) -> float | None:
    """Real seconds ``step`` of fault ``key`` may take: its ``call_timeout`` or the default."""
    own = next((f.call_timeout for f in ctx.scenario.faults if f.id == key), None)
    return limit_for(step, own)


@dataclass
class Reverts:
    """What this process undid and failed to undo, for the user's summary at the end."""

    reverted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class FaultManager:
    """The drill's injectors, what is active now, and how to undo it."""

    def __init__(self, ctx: DrillContext, record: Record) -> None:
        self.ctx = ctx
        self.record = record
        self.injectors: dict[str, AnyInjector] = {}
        self.active: dict[str, ActiveFault] = {}
        self.broken: dict[str, str] = {}  # fault key -> why its setup failed
        self.reverts = Reverts()

    def build(self) -> None:
        """Construct every fault's injector up front: a missing plugin fails before start."""
        for fault in self.ctx.scenario.faults:
            self.injectors[fault.id] = make_injector(self.ctx, request_for_fault(self.ctx, fault))

    def runbook_injector(self, runbook: RunbookSpec) -> AnyInjector:
        key = RUNBOOK_PREFIX + runbook.id
        if key not in self.injectors:
            self.injectors[key] = make_injector(self.ctx, request_for_runbook(self.ctx, runbook))
        return self.injectors[key]

    async def setup_all(self) -> None:
        """Each injector's setup; one that fails is recorded and its fault is not injected."""
        for key, injector in self.injectors.items():
            try:
                await call(
                    ref_of(injector), "setup", injector.setup, limit=self._limit(key, "setup")
                )
            except KunrenError as exc:
                self.broken[key] = str(exc)
                self.record(FaultFailed(fault=key, error=f"setup failed: {exc}"))

    async def inject(
        self, key: str, until: float | None = None, runbook: str | None = None
    ) -> Injected | None:
        injector = self.injectors[key]
        request = injector.request
        if key in self.broken:
            self.record(FaultFailed(fault=key, error=f"not injected: {self.broken[key]}"))
            return None
        ref = ref_of(injector)
        with self.ctx.clock.busy():
            try:
                planned = await call(ref, "plan", injector.plan, limit=self._limit(key, "plan"))
            except KunrenError as exc:
                self.record(FaultFailed(fault=key, error=f"planning failed: {exc}"))
                return None
            self.record(
                FaultInjecting(
                    fault=key,
                    kind=request.kind,
                    target=request.target_name,
                    planned=planned.targets,
                    undo=planned.undo,
                    revert=planned.revert,
                    runbook=runbook,
                )
            )
            try:
                injected = await call(
                    ref, "inject", injector.inject, limit=self._limit(key, "inject")
                )
            except (KunrenError, asyncio.CancelledError) as exc:
                if planned.revert is not None:  # it may have half-acted: undo what can be
                    self.active[key] = ActiveFault(key, injector, planned.revert)
                if isinstance(exc, asyncio.CancelledError):
                    raise  # the run is being cancelled: the finish path reverts it
                self.record(FaultFailed(fault=key, error=str(exc)))
                return None
            if injected.revert is not None:  # known before it is recorded: undone from memory
                self.active[key] = ActiveFault(key, injector, injected.revert)
            self.record(
                FaultInjected(
                    fault=key,
                    kind=request.kind,
                    targets=injected.targets,
                    revert=injected.revert,
                    until=until,
                    detail=injected.detail,
                )
            )
        return injected

    async def revert(self, key: str) -> bool:
        """Undo one active fault; False (and logged loudly) when the revert failed."""
        active = self.active.pop(key, None)
        if active is None:
            return True
        ok = await revert_with(active.injector, key, active.handle, self.record, self.ctx)
        (self.reverts.reverted if ok else self.reverts.failed).append(key)
        return ok

    async def revert_all(self) -> list[str]:
        """Undo everything active, newest first; returns the keys whose revert failed."""
        failed = []
        for key in reversed(list(self.active)):
            if not await self.revert(key):
                failed.append(key)
        return failed

    def _limit(self, key: str, step: str) -> float | None:
        return limit(self.ctx, key, step)

    async def close_all(self) -> None:
        for key, injector in self.injectors.items():
            try:
                await call(
                    ref_of(injector), "close", injector.close, limit=self._limit(key, "close")
                )
            except KunrenError as exc:
                note(self.record, Note(text=f"closing {injector.request.id} failed: {exc}"))


async def revert_with(
    injector: AnyInjector, key: str, handle: Handle, record: Record, ctx: DrillContext
) -> bool:
    """Undo one fault; its events are recorded if the record can be written, never instead."""
    with ctx.clock.busy():
        note(record, FaultReverting(fault=key))
        try:
            detail = await call(
                ref_of(injector), "revert", injector.revert, handle, limit=limit(ctx, key, "revert")
            )
        except KunrenError as exc:
            note(record, FaultRevertFailed(fault=key, error=str(exc)))
            return False
        note(record, FaultReverted(fault=key, detail=detail))
    return True


def note(record: Record, event: Event) -> bool:
    """Record ``event`` if the record can be written; what must happen happens regardless.

    The recorder (a ``GuardedRecorder``) keeps what it could not write for the user's summary.
    """
    try:
        record(event)
    except (EventLogError, OSError):
        return False
    return True


@dataclass(frozen=True)
class Outstanding:
    """A fault the record shows injected (or being injected) and never reverted."""

    key: str
    kind: str
    handle: dict[str, JsonValue] | None
    completed: bool  # fault.injected was recorded (not only fault.injecting)


def outstanding_faults(events: list[Event]) -> list[Outstanding]:
    state: dict[str, Outstanding] = {}
    for event in events:
        if isinstance(event, FaultInjecting):
            state[event.fault] = Outstanding(event.fault, event.kind, event.revert, False)
        elif isinstance(event, FaultInjected):
            state[event.fault] = Outstanding(event.fault, event.kind, event.revert, True)
        elif isinstance(event, FaultFailed):
            previous = state.get(event.fault)
            if previous is not None and previous.handle is None:
                state.pop(event.fault)
        elif isinstance(event, FaultReverted):
            state.pop(event.fault, None)
    return [o for o in state.values() if o.handle is not None or not o.completed]
