"""The report never contradicts itself and says where every number came from (issue 13)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kunren.cli import main
from kunren.record.eventlog import EventLog
from kunren.record.events import (
    DrillAborted,
    DrillStarted,
    Milestone,
    ParticipantJoined,
    ProbeFailed,
    ProbeRecovered,
)
from kunren.reports import render, write_report
from kunren.reports.svg import COLORS
from kunren.reports.texts import CATALOG
from kunren.scorers import Scorecard, score
from tests.fixtures.timelines.records import DRILLS, Q3, SCENARIO
from tests.scorers.helpers import record, runbook_restart, scenario


def _demo_like() -> Scorecard:
    """A 60-minute drill run in 92 s at 40x, every participant simulated (the demo)."""
    events = record(
        ProbeFailed(at=10, probe="shop"),
        Milestone(at=120, name="detected", actor="sim-sre", role="sre", source="simulated"),
        Milestone(
            at=540, name="customer_notified", actor="sim-sup", role="support", source="simulated"
        ),
        ProbeRecovered(at=1500, probe="shop"),
        end=3621,
    )
    events[0] = DrillStarted(
        seq=1, drill="demo", scenario_id="web-outage", duration=3600, clock="scaled", speed=40
    )
    return score(scenario(), events)


def test_the_demo_like_report_says_simulated_and_x40() -> None:
    html = render(_demo_like(), "html")
    header = html.split("<section", 1)[0]
    assert "×40" in header
    assert "1:00:21 of drill time took 01:30 of real time" in header
    assert "simulated people" in header
    summary = html.split('<section id="summary">', 1)[1].split("</section>", 1)[0]
    assert summary.count('<span class="prov">simulated</span>') == 2  # beside both numbers
    assert "the conductor (live)" not in html


def test_the_japanese_demo_like_report_says_it_too() -> None:
    html = render(_demo_like(), "html", "ja")
    assert "×40 倍速" in html
    assert "シミュレーション" in html
    assert "duration reached" not in html  # the conductor's own reason, translated
    assert "予定時間に到達" in html


def test_with_no_alert_source_the_report_says_so_instead_of_60_plus() -> None:
    html = render(_demo_like(), "html")
    system = html.split("<h3>System timings</h3>", 1)[1].split("</table>", 1)[0]
    assert "no alert reached kunren: no alert source was connected, or nothing fired" in system
    assert "60+ min" not in system


def test_customers_notified_by_a_mark_is_not_contradicted_by_the_notices_section() -> None:
    events = record(
        Milestone(at=540, name="customer_notified", actor="bob", role="support"),
    )
    html = render(score(scenario(), events), "html")
    notices = html.split('<section id="notices">', 1)[1].split("</section>", 1)[0]
    assert "No customer notice was sent" not in notices
    assert "customers notified was marked by bob at 9 min" in notices


def test_an_abort_before_the_deadline_is_not_due_rather_than_missed() -> None:
    events = record(DrillAborted(at=750, reason="aborted by the facilitator"), end=None)
    card = score(scenario(objectives={"customer_notified": {"within": "23m"}}), events)
    html = render(card, "html")
    summary = html.split('<section id="summary">', 1)[1].split("</section>", 1)[0]
    assert '<span class="tag open">not due</span>' in summary
    assert "missed" not in summary
    assert "12+ min" in summary and "not reached in the 12 min observed" in summary
    assert "the drill stopped before this deadline (23:00)" in summary


def test_the_objective_s_counting_mark_is_drawn_filled() -> None:
    events = record(
        Milestone(at=120, name="triaged", actor="bob", role="support"),
        Milestone(at=180, name="triaged", actor="alice", role="sre"),
    )
    card = score(scenario(objectives={"triaged": {"within": "10m", "by": "sre"}}), events)
    html = render(card, "html")
    filled = re.findall(
        rf'<circle [^>]*fill="{COLORS["people"]}"[^>]*><title>([^<]*)</title>', html
    )
    assert any("alice" in title for title in filled)
    card_html = html.split('<div class="cards">', 1)[1].split("</div>\n  </div>", 1)[0]
    assert "3 min" in card_html and "alice (sre)" in card_html


def test_a_runbook_restart_is_not_drawn_as_a_fault_bar() -> None:
    html = render(score(scenario(), record(*runbook_restart())), "html")
    assert "Faults: runbook:restart-web" not in html
    assert "a runbook run by the team" in html


def test_markdown_escapes_what_people_typed() -> None:
    events = record(
        ParticipantJoined(at=0, actor="<script>alert(1)</script>", role="sre"),
        Milestone(at=60, name="detected", actor="<script>alert(1)</script>", role="sre"),
    )
    text = render(score(scenario(), events), "md")
    assert "<script>" not in text
    assert "&lt;script&gt;" in text


def _english_only_phrases(record_text: str) -> list[str]:
    """Catalog phrases whose Japanese differs and that the record itself does not contain
    (a tool called "Status page admin" is a name, not a leftover)."""
    return [
        en
        for en, ja in CATALOG.values()
        if en != ja and len(en) > 3 and "{" not in en and en not in record_text
    ]


def _visible_text(page: str) -> str:
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page)


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_the_japanese_report_contains_none_of_the_english_phrases(tmp_path: Path, fmt: str) -> None:
    text = write_report([DRILLS / Q3], fmt, tmp_path / f"r.{fmt}", lang="ja").read_text("utf-8")
    text = _visible_text(text) if fmt == "html" else text
    record_text = (DRILLS / Q3 / "events.jsonl").read_text("utf-8") + SCENARIO.read_text("utf-8")
    phrases = _english_only_phrases(record_text)
    assert len(phrases) > 100  # the English report of the same drill shows 85 of them
    found = [p for p in phrases if re.search(rf"\b{re.escape(p)}\b", text)]
    assert found == []
    for english in ("duration reached", "not reached", "objective", " via ", "recipients"):
        assert english not in text


def test_kunren_score_says_what_kind_of_drill_and_who_made_each_mark(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "demo"
    log = EventLog.create(folder, SCENARIO.read_text("utf-8"))
    events = record(
        Milestone(at=120, name="detected", actor="sim-sre", role="sre", source="simulated")
    )
    events[0] = DrillStarted(
        seq=1, drill="demo", scenario_id="web-outage", duration=3600, clock="scaled", speed=40
    )
    log.append_many([e.model_copy(update={"seq": 0}) for e in events])
    with pytest.raises(SystemExit) as done:
        main(["score", str(folder)])
    out = capsys.readouterr().out
    assert done.value.code == 0
    assert "drill: live, scaled ×40, simulated people · marks by simulated people" in out
    row = next(line for line in out.splitlines() if line.startswith("detected "))
    assert row.split() == [
        *("detected", "2", "min", "sim-sre", "(sre)", "simulated", "≤", "5", "min", "met")
    ]


def test_a_trend_labels_simulated_rehearsals_on_the_virtual_clock() -> None:
    from kunren.scorers import trend

    rehearsal_events = record(
        Milestone(at=540, name="detected", actor="sim", role="sre", source="simulated")
    )
    rehearsal_events[0] = DrillStarted(
        seq=1, drill="q1", scenario_id="web-outage", duration=3600, clock="virtual", speed=0
    )
    rehearsal = score(scenario(), rehearsal_events).model_copy(
        update={"drill": "q1", "started": "2024-01-17T18:00:00+09:00"}
    )
    live = score(
        scenario(), record(Milestone(at=180, name="detected", actor="erin", role="sre"))
    ).model_copy(update={"drill": "q2", "started": "2024-04-17T18:00:00+09:00"})
    card = live.model_copy(update={"trend": trend([rehearsal, live])})
    html = render(card, "html")
    assert "9 min (simulated, virtual clock) → 3 min" in html
    assert "live · virtual clock · simulated" in html  # the rehearsal, in the drill list
    md = render(card, "md", "ja")
    assert "9分 (シミュレーション、仮想時計) → 3分" in md
