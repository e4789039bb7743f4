"""A virtual-clock drill records exactly the same events, whatever is made faster underneath.

The virtual clock and the probe loop are tuned for speed (a day of checks every second in a
few seconds); these tests pin what they must not change: every event of the record, in order,
with its drill time and every field but the wall time, for the same scenario and seed. The
golden files were written by the code before that tuning. After an intended change to what a
drill records, rewrite them with ``KUNREN_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from bench.rehearsal import scenario_text

from kunren.record.events import DrillStarted, Event
from kunren.testing import run_virtual

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("KUNREN_UPDATE_GOLDEN") == "1"

# Probes every second and every 7 s over three hours; a second fault makes a probe fail long
# enough for its stop condition, so the drill is aborted and the fault reverted.
PROBE_HOURS = """\
version: 1
id: probe-hours
title: Hours of probe checks
duration: 3h
faults:
  - {id: blip, at: 20m, kind: testing.marker, path: blip.flag, for: 90s}
  - {id: long, at: 2h, kind: testing.marker, path: long.flag, for: 1h}
probes:
  - {id: every-second, every: 1s, testing.file: {path: blip.flag}}
  - {id: every-7s, every: 7s, testing.file: {path: long.flag}}
  - {id: present, every: 1s, testing.file: {path: long.flag, ok_when: exists}}
stop_conditions:
  - {probe: every-7s, failing_for: 30m}
"""

SCENARIOS = {"rehearsal": scenario_text(), "probe-hours": PROBE_HOURS}


def normalized(events: list[Event], folder: Path) -> list[str]:
    """Each event as JSON without its wall time; the scratch folder and drill id made fixed."""
    drill = next(e.drill for e in events if isinstance(e, DrillStarted))
    lines = []
    for event in events:
        text = json.dumps(event.model_dump(mode="json", exclude={"wall"}), ensure_ascii=False)
        lines.append(text.replace(str(folder), "<folder>").replace(drill, "<drill>"))
    return lines


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_virtual_run_records_the_golden_events(name: str, tmp_path: Path) -> None:
    scenario = tmp_path / f"{name}.yaml"
    scenario.write_text(SCENARIOS[name], encoding="utf-8")
    _, events = run_virtual(scenario, tmp_path / "drills")
    lines = normalized(events, tmp_path)
    golden = GOLDEN / f"{name}.jsonl"
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert lines == golden.read_text(encoding="utf-8").splitlines()
