"""A virtual-clock drill records exactly the same events, whatever is made faster underneath.

The virtual clock and the probe loop are tuned for speed (a day of checks every second in a
few seconds); these tests pin what they must not change: every event of the record, in order,
with its drill time and every field but the wall time, for the same scenario and seed. The
golden files were written by the code before that tuning. After an intended change to what a
drill records, rewrite them with ``KUNREN_UPDATE_GOLDEN=1`` and review the diff.

The scenarios are beside them: ``rehearsal.yaml`` (the rehearsal benchmark's hour: 16
simulated people, injects, marker faults, probes every 15 s, planned load stages) and
``probe-hours.yaml`` (probes every second and every 7 s over three hours; a second fault
makes a probe fail long enough for its stop condition, so the drill is aborted and the fault
reverted).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kunren.record.events import DrillStarted, Event
from kunren.testing import run_virtual

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("KUNREN_UPDATE_GOLDEN") == "1"

SCENARIOS = sorted(path.stem for path in GOLDEN.glob("*.yaml"))


def normalized(events: list[Event], folder: Path) -> list[str]:
    """Each event as JSON without its wall time; the scratch folder and drill id made fixed."""
    drill = next(e.drill for e in events if isinstance(e, DrillStarted))
    lines = []
    for event in events:
        text = json.dumps(event.model_dump(mode="json", exclude={"wall"}), ensure_ascii=False)
        lines.append(text.replace(str(folder), "<folder>").replace(drill, "<drill>"))
    return lines


def test_both_golden_scenarios_are_there() -> None:
    assert SCENARIOS == ["probe-hours", "rehearsal"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_virtual_run_records_the_golden_events(name: str, tmp_path: Path) -> None:
    scenario = tmp_path / f"{name}.yaml"
    scenario.write_text((GOLDEN / f"{name}.yaml").read_text("utf-8"), encoding="utf-8")
    _, events = run_virtual(scenario, tmp_path / "drills")
    lines = normalized(events, tmp_path)
    golden = GOLDEN / f"{name}.jsonl"
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert lines == golden.read_text(encoding="utf-8").splitlines()
