"""The drill's timeline as ordered steps: what fires at which drill time.

Built once from the scenario (pure, no I/O) so the conductor, ``kunren plan`` and resume all
agree on what happens when. At the same drill time, reverts come before injections and the
drill end comes last.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from kunren.drills.simulate import SimulatedMark, draw_marks
from kunren.scenarios.models import Fault, InjectSpec, LoadStageSpec, Scenario


class StepKind(IntEnum):
    # the value orders steps that share a drill time
    REVERT = 0
    LOAD = 1
    FAULT = 2
    INJECT = 3
    SIMULATED = 4
    END = 9


@dataclass(frozen=True)
class Step:
    at: float
    kind: StepKind
    key: str  # stable identity, for resume: "fault:kill-web", "inject:2", …
    label: str
    fault: Fault | None = None
    inject: InjectSpec | None = None
    stage: LoadStageSpec | None = None
    mark: SimulatedMark | None = None

    @property
    def sort_key(self) -> tuple[float, int, str]:
        return (self.at, int(self.kind), self.key)


def build_schedule(scenario: Scenario) -> list[Step]:
    steps: list[Step] = []
    for fault in scenario.faults:
        steps.append(
            Step(
                fault.at,
                StepKind.FAULT,
                f"fault:{fault.id}",
                f"fault {fault.id} ({fault.kind})",
                fault=fault,
            )
        )
        if fault.for_ is not None:
            end = min(fault.at + fault.for_, scenario.duration)
            steps.append(
                Step(end, StepKind.REVERT, f"revert:{fault.id}", f"revert {fault.id}", fault=fault)
            )
    for index, inject in enumerate(scenario.injects):
        text = inject.text or f"{inject.who} unavailable"
        steps.append(
            Step(
                inject.at,
                StepKind.INJECT,
                f"inject:{index}",
                f"{inject.kind}: {text}",
                inject=inject,
            )
        )
    if scenario.load is not None:
        for index, stage in enumerate(scenario.load.stages):
            label = f"load stage: {stage.users} users (spawn {stage.spawn_rate:g}/s)"
            steps.append(Step(stage.at, StepKind.LOAD, f"load:{index}", label, stage=stage))
    for mark in draw_marks(scenario):
        label = f"{mark.person} ({mark.role}): {mark.milestone}"
        steps.append(
            Step(
                mark.at, StepKind.SIMULATED, f"sim:{mark.person}:{mark.milestone}", label, mark=mark
            )
        )
    steps.append(Step(scenario.duration, StepKind.END, "end", "drill ends"))
    return sorted(steps, key=lambda s: s.sort_key)
