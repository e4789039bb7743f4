"""The injector interface: how a fault (or a runbook) acts on a target and is undone.

The conductor calls ``plan()`` and logs ``fault.injecting`` with the planned targets and the
undo description BEFORE ``inject()`` acts. ``inject()`` returns a JSON revert handle holding
everything needed to undo it, so ``kunren revert`` can undo a fault after a crash from the
event log alone, in a new process: ``revert(handle)`` must not depend on in-memory state.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, JsonValue

from kunren.plugins import Plugin
from kunren.runtime.context import DrillContext
from kunren.scenarios.models import Target

Handle = dict[str, JsonValue]


@dataclass(frozen=True)
class Planned:
    targets: list[str]
    undo: str = ""  # in words; empty when the fault cannot be undone
    revert: Handle | None = None  # the handle that would undo it, when known before acting


@dataclass(frozen=True)
class Injected:
    targets: list[str]
    revert: Handle | None = None  # None: nothing to undo
    detail: str = ""


@dataclass
class FaultRequest:
    """One fault or runbook to act on: its id, kind, target and validated parameters."""

    id: str
    kind: str
    target_name: str | None
    target: Target | None
    params: BaseModel
    duration: float | None = None


class Injector(Plugin, ABC):
    """Base of fault and runbook kinds (entry-point group ``kunren.injectors``)."""

    target_kinds: ClassVar[tuple[str, ...]] = ()  # accepted target kinds; () = no target

    def __init__(self, ctx: DrillContext, request: FaultRequest) -> None:
        self.ctx = ctx
        self.request = request

    async def setup(self) -> None:
        """Called at drill start, before any fault fires (e.g. to put the fault proxy in
        front of its target). Must be idempotent across injectors sharing a resource."""

    async def plan(self) -> Planned:
        """The targets it would act on and how it would be undone; touches nothing."""
        return Planned(targets=[self.request.target_name or self.request.kind])

    @abstractmethod
    async def inject(self) -> Injected:
        """Act. Returns the targets hit and a revert handle."""

    async def revert(self, handle: Handle) -> str:
        """Undo using only ``handle``; returns a short description of what was done."""
        return "nothing to undo"

    async def close(self) -> None:
        """Release what the injector holds (servers, sessions) at drill end."""
