"""The demo's earlier quarters: the series the live demo drill is compared with.

A first drill has nothing to compare with, so the report of a lone demo cannot show what the
tool is for: "customers notified 60+ min → 44 min → 9 min". Before the live demo, this module
rehearses two earlier quarters of the same scenario id on the virtual clock (no real time
passes), each with simulated people as slow as a team was before it had notice templates and
runbooks. They are what they look like in the record: tabletop drills (nothing injected or
watched), on a virtual clock, marked only by simulated people; every surface labels them so,
and each scenario snapshot says in its title and description what it stands for and when it
was made. A virtual clock's wall time is simulated too: it is set to the quarter the drill
stands for, so the series is ordered as the story is told.

Each quarter is made once: a drill folder whose snapshot carries the quarter's tag is kept.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from kunren.drills.runner import RunSettings, start_drill
from kunren.errors import KunrenError
from kunren.record.folders import load_snapshot
from kunren.reports.records import find_series
from kunren.runtime.clock import wall_now
from kunren.scenarios.loader import load_scenario_text

HISTORY_TAG = "demo-history"
# what a rehearsal keeps of the demo scenario: who takes part, what they hear, what "good" is
KEPT = (
    "version",
    "id",
    "duration",
    "timezone",
    "lang",
    "roles",
    "milestones",
    "injects",
    "objectives",
)


@dataclass(frozen=True)
class SimPerson:
    """One simulated participant: each milestone's time drawn from its range after T0."""

    role: str
    person: str
    times: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Quarter:
    """An earlier quarter of the demo series, as the team was then."""

    tag: str  # in the snapshot's tags: how a later `make demo` knows it is already there
    label: str  # "two quarters ago"
    what: str  # what the team lacked then, for the title
    seed: int
    people: tuple[SimPerson, ...]


QUARTERS: tuple[Quarter, ...] = (
    Quarter(
        tag="demo-history-q-2",
        label="two quarters ago",
        what="no notice templates, nobody but Alice had sent a notice",
        seed=21,
        people=(
            SimPerson(
                "sre",
                "sim-sre",
                (("detected", "14m-18m"), ("triaged", "30m-36m"), ("resolved", "52m-58m")),
            ),
            # no customer notice within the hour: "60+ min"
            SimPerson("support", "sim-support", (("detected", "20m-25m"),)),
        ),
    ),
    Quarter(
        tag="demo-history-q-1",
        label="last quarter",
        what="notice templates drafted, but no audience list and no restart runbook",
        seed=22,
        people=(
            SimPerson(
                "sre",
                "sim-sre",
                (
                    ("detected", "8m-11m"),
                    ("triaged", "20m-25m"),
                    ("mitigated", "34m-38m"),
                    ("resolved", "44m-50m"),
                ),
            ),
            SimPerson(
                "support",
                "sim-support",
                (("detected", "10m-13m"), ("customer_notified", "40m-48m")),
            ),
        ),
    ),
)


def rehearsal_text(base: dict[str, Any], quarter: Quarter, made: datetime) -> str:
    """The scenario a quarter's rehearsal runs: the demo's people, injects and objectives, no
    faults, probes, services or notice templates, and that quarter's slower people."""
    data = {key: base[key] for key in KEPT if key in base}
    data["title"] = f"{base.get('title', base['id'])} (simulated rehearsal, {quarter.label})"
    data["description"] = (
        f"Made by make demo on {made:%Y-%m-%d} to stand for {quarter.label} "
        f"({quarter.what}): a tabletop rehearsal on the virtual clock with simulated people; "
        "its record keeps the real time it was made (before this quarter's live drill, so the "
        "series reads in order).\n"
    )
    data["tags"] = [*base.get("tags", []), HISTORY_TAG, quarter.tag]
    data["simulate"] = {
        "seed": quarter.seed,
        "people": [{"role": p.role, "person": p.person, **dict(p.times)} for p in quarter.people],
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def made_quarters(drills_root: Path, series: str) -> set[str]:
    """The quarter tags already in ``drills_root``'s drills of ``series``."""
    tags: set[str] = set()
    for drill in find_series(drills_root, series):
        try:
            tags.update(load_snapshot(drill).scenario.tags)
        except KunrenError:
            continue  # a damaged drill is the report's to name; it is no quarter of ours
    return tags


def build_history(
    scenario_path: Path, drills_root: Path, now: datetime | None = None
) -> list[Path]:
    """Rehearse every earlier quarter not yet in ``drills_root``; returns the new drill
    folders, oldest first (none when the history is already there)."""
    text = scenario_path.read_text("utf-8")
    base = yaml.safe_load(text)
    made = now if now is not None else wall_now()
    present = made_quarters(drills_root, str(base["id"]))
    folders = []
    for quarter in QUARTERS:
        if quarter.tag in present:
            continue
        loaded = load_scenario_text(
            rehearsal_text(base, quarter, made),
            f"{scenario_path} ({quarter.label})",
            scenario_path.parent,
        )
        # The record keeps when it was really made: a stand-in never claims another date.
        settings = RunSettings(drills_root=drills_root, clock_kind="virtual")
        log, _ = asyncio.run(start_drill(loaded, settings))
        folders.append(log.drill_dir)
    return folders
