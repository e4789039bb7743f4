"""``kunren run`` on the virtual clock: the report it writes at the end is in the scenario's
language, and ``--no-simulate`` leaves the simulated people out of the record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kunren.cli import main

SCENARIO = """\
version: 1
id: ja-tabletop
title: 予約ページの障害（机上訓練）
duration: 10m
lang: {lang}
roles:
  support: {{min: 1}}
objectives:
  detected: {{within: 5m}}
simulate:
  seed: 3
  people:
    - {{role: support, person: sim-1, detected: 1m-2m}}
"""


def _run(tmp_path: Path, lang: str, *extra: str) -> tuple[Path, str]:
    scenario = tmp_path / f"{lang}.yaml"
    scenario.write_text(SCENARIO.format(lang=lang), encoding="utf-8")
    drills = tmp_path / "drills"
    with pytest.raises(SystemExit) as done:
        main(["run", str(scenario), "--clock", "virtual", "--drills", str(drills), *extra])
    assert done.value.code == 0
    (folder,) = [p for p in drills.iterdir() if p.is_dir()]
    report = Path("reports") / f"{folder.name}.html"
    return folder, report.read_text("utf-8")


def _sources(folder: Path) -> list[str]:
    lines = (folder / "events.jsonl").read_text("utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    return [e["source"] for e in events if e["type"] == "milestone"]


def test_the_report_written_at_the_end_of_a_run_is_in_the_scenario_s_lang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder, html = _run(tmp_path, "ja")
    assert '<html lang="ja">' in html
    assert "仮想時計" in html and "シミュレーション" in html
    assert _sources(folder) == ["simulated"]


def test_no_simulate_runs_the_scenario_without_its_simulated_people(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder, html = _run(tmp_path, "en", "--no-simulate")
    assert _sources(folder) == []
    assert '<html lang="en">' in html
    assert "simulated people" not in html
