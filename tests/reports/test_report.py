"""write_report and the CLI around it: formats, sections, languages, the series found on disk."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from kunren.cli import main
from kunren.errors import UsageError
from kunren.record.importer import import_timeline
from kunren.reports import build_scorecard, render, write_report
from kunren.scorers import Scorecard
from tests.fixtures.timelines.records import DRILLS, Q1, Q2, Q3, SCENARIO

GOLDEN = DRILLS.parent / "golden"
UPDATE = os.environ.get("KUNREN_UPDATE_GOLDEN") == "1"

SECTIONS_EN = [
    "Summary",
    "Trend across the series",
    "Scenario and what was injected",
    "Timeline",
    "Milestones per role",
    "Customer notices",
    "Team health",
    "Readiness",
    "Gaps",
    "Notes and action items",
    "Facilitator amendments",
    "The raw record",
]


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(argv)
    code = done.value.code
    assert isinstance(code, int)
    return code


def test_the_report_goes_to_reports_drill_id_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write_report([DRILLS / Q3])
    assert path == Path("reports") / f"{Q3}.html"
    assert (tmp_path / path).read_text("utf-8").startswith("<!DOCTYPE html>")


def test_markdown_has_every_section_in_order(tmp_path: Path) -> None:
    text = write_report([DRILLS / Q3], "md", tmp_path / "r.md").read_text("utf-8")
    assert re.findall(r"^## (.+)$", text, re.MULTILINE) == SECTIONS_EN
    assert (
        "| Customers notified | 31 min (bob, support) _from a notice_ | "
        "within 30 min by support: **missed** | "
    ) in text
    assert "60+ min → 44 min → 31 min (improved)" in text
    assert "| 12:10 (recorded 14:00) | People | dave (sre) | Triaged |" in text
    assert "- [ ] give carol Status page admin access before the next drill — frank, 46:00" in text
    assert f"`{DRILLS / Q3 / 'events.jsonl'}`" in text


def test_japanese_labels(tmp_path: Path) -> None:
    text = write_report([DRILLS / Q3], "md", tmp_path / "r.md", lang="ja").read_text("utf-8")
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert headings[:3] == ["サマリー", "シリーズの推移", "シナリオと注入内容"]
    assert (
        "| お客様に告知した | 31分 (bob, support) _告知から_ | 30分以内 support が: **未達** "
        "| 60分以上 → 44分 → 31分 (改善) |"
    ) in text
    assert "carol（support）は Status page admin を開けませんでした" in text


@pytest.mark.parametrize(("drill", "lang"), [(Q3, "en"), (Q3, "ja"), (Q1, "en")])
def test_markdown_matches_the_golden_file(drill: str, lang: str) -> None:
    card = build_scorecard([DRILLS / drill]).model_copy(update={"record": "events.jsonl"})
    text = render(card, "md", lang)
    path = GOLDEN / f"{drill}.{lang}.md"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_json_is_the_scorecard_with_its_trend(tmp_path: Path) -> None:
    path = write_report([DRILLS / Q3], "json", tmp_path / "r.json")
    card = Scorecard.model_validate_json(path.read_text("utf-8"))
    assert card.trend is not None
    assert card.trend.drills == [Q1, Q2, Q3]
    assert card.record == str(DRILLS / Q3 / "events.jsonl")
    data = json.loads(path.read_text("utf-8"))
    notified = data["milestones"]["customer_notified"]
    assert {k: notified[k] for k in ("seconds", "censored", "display", "by", "role")} == {
        "seconds": 1880.0,
        "censored": False,
        "display": "31 min",
        "by": "bob",
        "role": "support",
    }
    objective = notified["objective"]
    assert {k: objective[k] for k in ("within_seconds", "by", "seconds", "met", "status")} == {
        "within_seconds": 1800.0,
        "by": ["support"],
        "seconds": 1880.0,
        "met": False,
        "status": "missed",
    }
    assert (objective["timing"]["by"], objective["timing"]["display"]) == ("bob", "31 min")
    assert set(notified["per_role"]) == {"support"}
    assert set(notified["per_person"]) == {"bob", "carol", "alice"}
    assert (data["objectives_met"], data["series"], data["drill"]) == (False, "web-outage", Q3)


def test_a_report_compares_only_with_drills_started_before_it() -> None:
    card = build_scorecard([DRILLS / Q2])
    assert card.trend is not None and card.trend.drills == [Q1, Q2]


def test_several_drills_given_report_on_the_latest(tmp_path: Path) -> None:
    card = build_scorecard([DRILLS / Q3, DRILLS / Q1], drills_root=tmp_path)  # nothing else there
    assert card.drill == Q3
    assert card.trend is not None and card.trend.drills == [Q1, Q3]


def test_a_damaged_drill_of_the_series_is_skipped_with_a_notice(tmp_path: Path) -> None:
    root = tmp_path / "drills"
    shutil.copytree(DRILLS, root)
    broken = root / "web-outage-broken"
    shutil.copytree(DRILLS / Q1, broken)
    with open(broken / "events.jsonl", "a", encoding="utf-8") as log:
        log.write("{not json}\n")
    card = build_scorecard([root / Q3])
    assert card.trend is not None
    assert card.trend.drills == [Q1, Q2, Q3]
    (notice,) = card.trend.notices
    assert notice.startswith(f"skipped {broken}: {broken / 'events.jsonl'}:14: not a valid event")


def test_drills_of_different_series_in_one_report(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(
        SCENARIO.read_text("utf-8").replace("id: web-outage", "id: db-outage"), "utf-8"
    )
    timeline = tmp_path / "t.csv"
    timeline.write_text("at,event,name\n0:00,fault.injected,shop-down\n", "utf-8")
    folder = import_timeline(other, timeline, tmp_path / "drills", None)
    with pytest.raises(
        UsageError, match="different series cannot be compared: db-outage, web-outage"
    ):
        write_report([DRILLS / Q3, folder], out=tmp_path / "r.html")


@pytest.mark.parametrize(
    ("fmt", "lang", "message"), [("pdf", "en", "format"), ("md", "fr", "language")]
)
def test_unknown_format_or_language(tmp_path: Path, fmt: str, lang: str, message: str) -> None:
    with pytest.raises(UsageError, match=f"unknown (report )?{message}"):
        write_report([DRILLS / Q3], fmt, tmp_path / "r", lang)


def test_html_is_self_contained_and_escapes_what_people_typed(tmp_path: Path) -> None:
    timeline = tmp_path / "t.csv"
    timeline.write_text(
        "at,event,name,actor,role,note\n"
        "0:00,fault.injected,shop-down,,,\n"
        '1:00,note,,<b>mallory</b>,,"<script>alert(1)</script> & <img src=http://x>"\n',
        "utf-8",
    )
    folder = import_timeline(SCENARIO, timeline, tmp_path / "drills", None)
    html = write_report([folder], "html", tmp_path / "r.html").read_text("utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=http://x&gt;" in html
    assert "&lt;b&gt;mallory&lt;/b&gt;" in html
    assert not re.search(r"""<(link|img|iframe)\b|<[^>]*\b(src|href)=["']?https?:""", html)
    assert html.count("<svg") >= 1 and "<style>" in html


def test_cli_report_prints_the_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "retro.md"
    assert run(["report", str(DRILLS / Q3), "--format", "md", "-o", str(out), "--lang", "ja"]) == 0
    assert capsys.readouterr().out == f"{out}\n"
    assert out.read_text("utf-8").startswith("# 訓練レポート: ")


def test_cli_report_with_team_scorers(tmp_path: Path) -> None:
    repo_scorers = Path(__file__).resolve().parents[2] / "scorers"
    out = tmp_path / "r.md"
    assert (
        run(
            [
                "report",
                str(DRILLS / Q2),
                "-o",
                str(out),
                "--format",
                "md",
                "--plugins-dir",
                str(repo_scorers),
            ]
        )
        == 0
    )
    text = out.read_text("utf-8")
    assert "## Team scorers" in text
    assert "- Detection to first customer notice: 40 min" in text


def test_cli_score_table_json_and_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["score", str(DRILLS / Q3)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert (
        "customer_notified    31 min   bob (support)         notice  ≤ 30 min by support"
        "        MISSED" in table
    )
    assert (
        "triaged              12 min   dave (sre) [amended]          ≤ 15 min by sre,commander"
        "  met" in table
    )
    assert table[-1] == "objectives: 2 of 4 met"

    assert run(["score", str(DRILLS / Q3), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["milestones"]["resolved"]["display"] == "50+ min"
    assert data["milestones"]["resolved"]["seconds"] is None

    assert run(["score", str(DRILLS / Q3), "--check"]) == 3
    assert capsys.readouterr().err == "Error: objectives missed: customer_notified, resolved\n"


def test_cli_score_of_a_folder_that_is_no_drill(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["score", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"Error: {tmp_path}: not a drill folder (no events.jsonl)\n"


def test_cli_trend_of_drill_folders_and_unknown_series(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["trend", str(DRILLS / Q2), str(DRILLS / Q1)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"series web-outage: {Q1} (imported) → {Q2} (imported)"
    assert "customer_notified: 60+ min → 44 min  (improved)" in out
    assert run(["trend", "no-such-series", "--drills", str(DRILLS)]) == 2
    assert capsys.readouterr().err == (
        f"Error: no-such-series: neither a drill folder nor a series with drills in {DRILLS}\n"
    )
