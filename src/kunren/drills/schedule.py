"""The drill's timeline as ordered steps: what fires at which drill time.

Built once from the scenario (pure, no I/O) so the conductor, ``kunren plan`` and resume all
agree on what happens when. One class per kind of step, matched with ``match``; each has a
stable ``key`` (``fault:kill-web``, ``revert:kill-web``, ``load:2``, ``inject:3``,
``sim:sim-sre:detected``, ``end``) that every event it produces carries as ``step``, so what
is done can be read back from the record by key. At the same drill time, reverts come before
load stages, faults, injects and simulated people, and the drill end comes last.

The step being fired is held in a context variable (``producing``), not passed down: the
events come from the fault manager, the load run and the plugins they call, and an event
recorded by another task at the same moment (a probe, a click on the page) must not carry it.
Each asyncio task has its own copy of the context, so only the firing task's events do.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar, assert_never

from kunren.drills.simulate import SimulatedMark, draw_marks
from kunren.scenarios.models import Fault, InjectSpec, LoadStageSpec, Scenario


@dataclass(frozen=True)
class FaultStep:
    """Inject ``fault`` (its window, if it has a ``for``, ends at its revert step)."""

    at: float
    fault: Fault
    order: ClassVar[int] = 2

    @property
    def key(self) -> str:
        return f"fault:{self.fault.id}"

    @property
    def label(self) -> str:
        return f"fault {self.fault.id} ({self.fault.kind})"

    @property
    def until(self) -> float | None:
        """Drill time its window ends (None: it stays until the drill ends or is undone)."""
        return self.fault.at + self.fault.for_ if self.fault.for_ is not None else None

    def window_open(self, now: float) -> bool:
        """Whether, at drill time ``now``, the fault is meant to be in effect."""
        return self.until is None or self.until > now


@dataclass(frozen=True)
class RevertStep:
    """Undo ``fault`` when its ``for`` window ends (or at the drill end, if sooner)."""

    at: float
    fault: Fault
    order: ClassVar[int] = 0

    @property
    def key(self) -> str:
        return f"revert:{self.fault.id}"

    @property
    def label(self) -> str:
        return f"revert {self.fault.id}"


@dataclass(frozen=True)
class LoadStep:
    """Move the load to ``stage``; ``number`` counts the scenario's stages from 1."""

    at: float
    number: int
    stage: LoadStageSpec
    order: ClassVar[int] = 1

    @property
    def key(self) -> str:
        return f"load:{self.number}"

    @property
    def label(self) -> str:
        return f"load stage: {self.stage.users} users (spawn {self.stage.spawn_rate:g}/s)"


@dataclass(frozen=True)
class InjectStep:
    """Announce ``inject`` to the people; ``number`` counts the scenario's injects from 1."""

    at: float
    number: int
    inject: InjectSpec
    order: ClassVar[int] = 3

    @property
    def key(self) -> str:
        return f"inject:{self.number}"

    @property
    def label(self) -> str:
        return f"{self.inject.kind}: {self.inject.text or f'{self.inject.who} unavailable'}"

    @property
    def until(self) -> float | None:
        return self.inject.at + self.inject.for_ if self.inject.for_ is not None else None


@dataclass(frozen=True)
class SimulatedStep:
    """A simulated person reaches a milestone (drawn from the scenario's ``simulate``)."""

    at: float
    mark: SimulatedMark
    order: ClassVar[int] = 4

    @property
    def key(self) -> str:
        return f"sim:{self.mark.person}:{self.mark.milestone}"

    @property
    def label(self) -> str:
        return f"{self.mark.person} ({self.mark.role}): {self.mark.milestone}"


@dataclass(frozen=True)
class EndStep:
    """The drill's duration is reached."""

    at: float
    order: ClassVar[int] = 9
    key: ClassVar[str] = "end"
    label: ClassVar[str] = "drill ends"


Step = FaultStep | RevertStep | LoadStep | InjectStep | SimulatedStep | EndStep


def sort_key(step: Step) -> tuple[float, int, str]:
    return (step.at, step.order, step.key)


def build_schedule(scenario: Scenario) -> list[Step]:
    """Every step of ``scenario`` in the order the conductor fires them."""
    steps: list[Step] = []
    for fault in scenario.faults:
        steps.append(FaultStep(fault.at, fault))
        if fault.for_ is not None:
            steps.append(RevertStep(min(fault.at + fault.for_, scenario.duration), fault))
    for number, inject in enumerate(scenario.injects, start=1):
        steps.append(InjectStep(inject.at, number, inject))
    if scenario.load is not None:
        for number, stage in enumerate(scenario.load.stages, start=1):
            steps.append(LoadStep(stage.at, number, stage))
    steps += [SimulatedStep(mark.at, mark) for mark in draw_marks(scenario)]
    steps.append(EndStep(scenario.duration))
    return sorted(steps, key=sort_key)


def pending_steps(schedule: Sequence[Step], done: frozenset[str], start: float) -> list[Step]:
    """The steps still to fire when the drill (re)starts at drill time ``start``.

    A step the record shows done never fires again. A step whose time passed while the
    conductor was down fires late, at ``start``, so no stage, inject or mark is skipped;
    the exception is a fault whose window closed meanwhile (and its revert, with nothing
    to undo): injecting it now would only be wrong.
    """
    closed = {
        step.fault.id
        for step in schedule
        if isinstance(step, FaultStep)
        and step.key not in done
        and step.at < start
        and not step.window_open(start)
    }
    return [
        step
        for step in schedule
        if step.key not in done and not (_of_fault(step) in closed and step.at <= start)
    ]


def _of_fault(step: Step) -> str | None:
    match step:
        case FaultStep() | RevertStep():
            return step.fault.id
        case LoadStep() | InjectStep() | SimulatedStep() | EndStep():
            return None
        case _:
            assert_never(step)


_PRODUCING: contextvars.ContextVar[str | None] = contextvars.ContextVar("step", default=None)


@contextmanager
def producing(step: Step) -> Iterator[None]:
    """While firing ``step``: every event this task records carries its key."""
    token = _PRODUCING.set(step.key)
    try:
        yield
    finally:
        _PRODUCING.reset(token)


def current_step() -> str | None:
    """The key of the step this task is firing, if any."""
    return _PRODUCING.get()
