"""From ``kunren notify`` to ``kunren report``: what the notice service checked and recorded as
it sent is what the report's notice quality and cadence say (no hand-made events)."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from kunren.cli import main
from kunren.record.eventlog import EventLog
from kunren.record.events import DrillEnded, DrillStarted, Notification
from kunren.record.folders import create_drill
from kunren.record.recorder import Recorder
from kunren.runtime.clock import VirtualClock
from kunren.scenarios.loader import load_scenario

REPO = Path(__file__).resolve().parents[2]
START = datetime(2024, 5, 1, 14, 0, tzinfo=ZoneInfo("Asia/Tokyo"))

SCENARIO = """\
version: 1
id: notice-quality
title: Notice quality
duration: 60m
timezone: Asia/Tokyo
roles: {support: {}}
notifications:
  templates:
    investigating: {ja: templates/investigating.ja.md.j2, en: templates/investigating.en.md.j2}
    identified: {ja: templates/identified.ja.md.j2, en: templates/identified.en.md.j2}
  audiences:
    drill-customers: {file: audiences/drill-customers.csv}
  channels: [capture]
  variables: {service: Shop, affected_features: booking}
  checklist: [affected, workaround, next_update, no_eta, no_internal_hosts]
"""


def drill_folder(tmp_path: Path) -> Path:
    workspace = tmp_path / "scenarios"
    shutil.copytree(REPO / "scenarios" / "templates", workspace / "templates")
    shutil.copytree(REPO / "scenarios" / "audiences", workspace / "audiences")
    path = workspace / "quality.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    log = create_drill(load_scenario(path), tmp_path / "drills", START)
    started = DrillStarted(
        drill=log.drill_dir.name, scenario_id="notice-quality", duration=3600, clock="virtual"
    )
    Recorder(log, VirtualClock(wall_start=START)).record(started)
    return log.drill_dir


def kunren(*args: str) -> tuple[int, str]:
    runner = CliRunner()
    with runner.isolation() as (out, err, _):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue().decode() + err.getvalue().decode()


def send(drill: Path, template: str, at: str, *variables: str) -> None:
    options = [f"--var={v}" for v in variables]
    code, output = kunren(
        *("notify", template, "--drill", str(drill), "--as", "aiko", "--role", "support"),
        *("--lang", "en", "--at", at, "--yes", *options),
    )
    assert code == 0, output


@pytest.mark.integration
def test_what_the_notice_service_recorded_is_what_the_report_says(tmp_path: Path) -> None:
    drill = drill_folder(tmp_path)
    send(drill, "investigating", "10:00", "next_update_time=14:30")  # no workaround
    send(drill, "identified", "38:00", "next_update_time=14:50", "workaround=call us")
    EventLog(drill).append(DrillEnded(at=3600.0, wall="2024-05-01T15:00:00+09:00"))

    sent = [e for e in EventLog(drill).read() if isinstance(e, Notification)]
    assert [(e.at, e.lacking, e.next_update_at) for e in sent] == [
        (600.0, ["workaround"], 1800.0),
        (2280.0, [], 3000.0),
    ]
    out = tmp_path / "retro.md"
    code, output = kunren("report", str(drill), "--format", "md", "-o", str(out))
    assert code == 0, output
    lines = out.read_text("utf-8").splitlines()
    rows = [line for line in lines if line.endswith("late |") or "| meets all" in line]
    assert rows == [
        "| 10:00 | investigating | aiko | **not met: a workaround for customers** | 30:00 "
        "| 38:00 | 8 min late |",
        "| 38:00 | identified | aiko | meets all 5 | 50:00 | none before the drill ended "
        "| 10+ min late (no update before the drill ended) |",
    ]
