"""Simulated participants: stand-ins for people in rehearsals, demos and forecasts.

Each person's milestone time is drawn uniformly from its range with a seeded generator, so the
same scenario and seed give the same times. A simulated person who is ``unavailable`` (an
inject) at the drawn time does not act: rehearsing the usual reporter being away shows up as a
missed or later milestone, exactly as it would with real people.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from kunren.scenarios.models import Scenario


@dataclass(frozen=True)
class SimulatedMark:
    at: float
    person: str
    role: str
    milestone: str
    window: tuple[float, float]  # the range ``at`` was drawn from


def draw_marks(scenario: Scenario, seed: int | None = None) -> list[SimulatedMark]:
    """Every simulated milestone of the scenario, in time order (reproducible per seed)."""
    if scenario.simulate is None:
        return []
    rng = random.Random(scenario.simulate.seed if seed is None else seed)
    marks = []
    for person in scenario.simulate.people:
        for milestone, (lo, hi) in person.milestones.items():
            at = round(rng.uniform(lo, hi))
            if not is_unavailable(scenario, person.person, at):
                marks.append(SimulatedMark(at, person.person, person.role, milestone, (lo, hi)))
    return sorted(marks, key=lambda m: (m.at, m.person, m.milestone))


def is_unavailable(scenario: Scenario, person: str, at: float) -> bool:
    for inject in scenario.injects:
        if inject.kind != "unavailable" or inject.who != person:
            continue
        end = inject.at + inject.for_ if inject.for_ is not None else scenario.duration
        if inject.at <= at < end:
            return True
    return False
