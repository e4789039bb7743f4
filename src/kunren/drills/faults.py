"""Injecting and reverting faults with the write-ahead rule, live or from the record.

``fault.injecting`` (planned targets, how to undo, and the revert handle when it is known in
advance) is on disk before an injector acts, and ``fault.injected`` (actual targets and the
revert handle) right after. Whatever the log shows injected and not reverted can therefore be
undone later by a new process: at drill end, on abort, or by ``kunren revert`` after a crash.
Runbooks run from the participant page go through the same path, keyed ``runbook:<id>``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import JsonValue

from kunren import plugins
from kunren.errors import KunrenError
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
from kunren.scenarios.models import RunbookSpec

Record = Callable[[Event], Event]


@dataclass
class ActiveFault:
    key: str
    injector: AnyInjector
    handle: Handle


def make_injector(ctx: DrillContext, request: FaultRequest) -> AnyInjector:
    return plugins.require(INJECTORS, request.kind)(ctx, request)


class FaultManager:
    """The drill's injectors, what is active now, and how to undo it."""

    def __init__(self, ctx: DrillContext, record: Record) -> None:
        self.ctx = ctx
        self.record = record
        self.injectors: dict[str, AnyInjector] = {}
        self.active: dict[str, ActiveFault] = {}

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
        for injector in self.injectors.values():
            await injector.setup()

    async def inject(
        self, key: str, until: float | None = None, runbook: str | None = None
    ) -> Injected | None:
        injector = self.injectors[key]
        request = injector.request
        with self.ctx.clock.busy():
            try:
                planned = await injector.plan()
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
                injected = await injector.inject()
            except KunrenError as exc:
                self.record(FaultFailed(fault=key, error=str(exc)))
                if planned.revert is not None:  # it may have half-acted: undo what can be
                    self.active[key] = ActiveFault(key, injector, planned.revert)
                return None
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
        if injected.revert is not None:
            self.active[key] = ActiveFault(key, injector, injected.revert)
        return injected

    async def revert(self, key: str) -> bool:
        """Undo one active fault; False (and logged loudly) when the revert failed."""
        active = self.active.pop(key, None)
        if active is None:
            return True
        return await revert_with(active.injector, key, active.handle, self.record, self.ctx)

    async def revert_all(self) -> list[str]:
        """Undo everything active, newest first; returns the keys whose revert failed."""
        failed = []
        for key in reversed(list(self.active)):
            if not await self.revert(key):
                failed.append(key)
        return failed

    async def close_all(self) -> None:
        for injector in self.injectors.values():
            try:
                await injector.close()
            except KunrenError as exc:
                self.record(Note(text=f"closing {injector.request.id} failed: {exc}"))


async def revert_with(
    injector: AnyInjector, key: str, handle: Handle, record: Record, ctx: DrillContext
) -> bool:
    with ctx.clock.busy():
        record(FaultReverting(fault=key))
        try:
            detail = await injector.revert(handle)
        except KunrenError as exc:
            record(FaultRevertFailed(fault=key, error=str(exc)))
            return False
        except Exception as exc:
            record(FaultRevertFailed(fault=key, error=f"{type(exc).__name__}: {exc}"))
            return False
        record(FaultReverted(fault=key, detail=detail))
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
