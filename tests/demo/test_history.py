"""The demo's earlier quarters: rehearsed once on the virtual clock, labelled for what they
were, and read by the trend as the story "customers notified 60+ min → 4x min → …"."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import KUNREN

from kunren.demo.history import QUARTERS, build_history
from kunren.demo.run import drills_root
from kunren.record.eventlog import EventLog
from kunren.record.events import DrillStarted, FaultInjected, Milestone
from kunren.record.folders import load_snapshot
from kunren.record.timeline import drill_provenance
from kunren.runtime.clock import wall_now

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "scenarios" / "demo-shop.yaml"
NOW = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)


def kunren(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KUNREN, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_earlier_quarters_are_simulated_virtual_tabletops_that_keep_their_real_date(
    tmp_path: Path,
) -> None:
    before = wall_now()
    folders = build_history(DEMO, tmp_path / "drills", NOW)
    assert len(folders) == len(QUARTERS) == 2
    walls = []
    for folder, quarter in zip(folders, QUARTERS, strict=True):
        events = EventLog(folder).read()
        started = events[0]
        assert isinstance(started, DrillStarted)
        assert (started.scenario_id, started.clock) == ("demo-shop", "virtual")
        walls.append(datetime.fromisoformat(started.wall))
        assert walls[-1] >= before  # the real time it was made: never backdated
        assert not any(isinstance(e, FaultInjected) for e in events)  # nothing was injected
        marks = [e for e in events if isinstance(e, Milestone)]
        assert marks and {m.source for m in marks} == {"simulated"}
        provenance = drill_provenance(events)
        assert (provenance.kind, provenance.clock, provenance.sources) == (
            "tabletop",
            "virtual",
            ["simulated"],
        )
        snapshot = load_snapshot(folder).scenario
        assert quarter.tag in snapshot.tags
        assert f"(simulated rehearsal, {quarter.label})" in snapshot.title
        assert "made by make demo on 2026-12-01" in snapshot.description.lower()


def test_the_history_is_made_once_and_kept(tmp_path: Path) -> None:
    root = tmp_path / "drills"
    first = build_history(DEMO, root, NOW)
    assert build_history(DEMO, root, NOW + timedelta(days=1)) == []
    assert sorted(root.iterdir()) == sorted(first)


def test_the_trend_reads_60_plus_then_the_40s_with_every_point_labelled(tmp_path: Path) -> None:
    build_history(DEMO, tmp_path / "drills", NOW)
    trend = kunren("trend", "demo-shop", cwd=tmp_path)
    assert trend.returncode == 0, trend.stderr
    lines = trend.stdout.splitlines()
    assert lines[0].startswith("series demo-shop: ")
    assert lines[0].count("(tabletop, virtual clock, simulated people)") == 2
    notified = next(line for line in lines if line.startswith("customer_notified: "))
    match = re.fullmatch(r"customer_notified: 60\+ min → (\d+) min  \(improved\)", notified)
    assert match, notified
    assert 40 <= int(match.group(1)) <= 48  # last quarter's people: 40m-48m after T0

    latest = sorted((tmp_path / "drills").iterdir())[-1]
    report = kunren("report", str(latest), "--format", "md", "-o", "r.md", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    text = (tmp_path / "r.md").read_text("utf-8")
    assert "| What this drill was | tabletop: nothing was injected or watched |" in text
    assert "| Clock | virtual: no real time passed (a simulation) |" in text
    row = next(line for line in text.splitlines() if line.startswith("| Customers notified | 60"))
    assert re.search(
        r"60\+ min \(virtual clock\) → 4\d min \(simulated, virtual clock\) \| improved", row
    ), row


def test_the_demo_rehearses_into_the_drills_folder_its_run_will_use() -> None:
    assert drills_root([]) == Path("drills")
    assert drills_root(["--drills", "elsewhere"]) == Path("elsewhere")
    assert drills_root(["--no-web", "--drills=other"]) == Path("other")
