"""The injector interface: how a fault (or a runbook) acts on a target and is undone.

The conductor calls ``plan()`` and logs ``fault.injecting`` with the planned targets and the
undo description BEFORE ``inject()`` acts. ``inject()`` returns a JSON revert handle holding
everything needed to undo it, so ``kunren revert`` can undo a fault after a crash from the
event log alone, in a new process: ``revert(handle)`` must not depend on in-memory state.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar, cast

from pydantic import BaseModel, JsonValue

from kunren.plugins import Group
from kunren.scenarios.kinds import FAULT_KINDS, FaultKind
from kunren.scenarios.models import Target

if TYPE_CHECKING:
    from kunren.runtime.context import DrillContext  # annotations only: no clock, no asyncio

Handle = dict[str, JsonValue]

P = TypeVar("P", bound=BaseModel, covariant=True)


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


@dataclass(frozen=True)
class FaultRequest:
    """One fault or runbook to act on: its id, kind, target and validated parameters."""

    id: str
    kind: str
    target_name: str | None
    target: Target | None
    params: BaseModel
    duration: float | None = None


class Injector(FaultKind, ABC, Generic[P]):
    """Base of fault and runbook kinds (entry-point group ``kunren.injectors``).

    ``class MyFault(Injector[MyParams])``: ``self.params`` is a ``MyParams``, validated when
    the scenario loaded. The scenario-facing hooks (``target_kinds``, ``check_target``,
    ``needs_safety``, ``real_systems``) come from ``FaultKind``; ``preflight`` is asked of
    every fault before the drill starts.
    """

    def __init__(self, ctx: DrillContext, request: FaultRequest) -> None:
        self.ctx = ctx
        self.request = request
        self.params: P = cast(P, self.own_params(request.params))

    async def preflight(self) -> None:
        """Called for every fault before the drill starts (before services, before the first
        fault): refuse, by raising, what would act where it must not. Touches nothing."""

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


AnyInjector = Injector[BaseModel]
"""An injector of any kind (its parameters unknown to the caller)."""

# type-abstract: mypy will not pass an abstract class as type[T] (python/mypy#4717), although
# checking against one is all a group does with it.
INJECTORS: Group[AnyInjector] = FAULT_KINDS.of(Injector)  # type: ignore[type-abstract]
"""The ``kunren.injectors`` group, loading ``type[Injector]``."""
