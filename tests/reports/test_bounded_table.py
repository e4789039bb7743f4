"""A long record's HTML report lists a bounded timeline and says where the rest is (en and ja)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kunren.record import events as ev
from kunren.record.eventlog import EVENTS_FILE, EventLog
from kunren.reports import build_scorecard, write_report
from kunren.reports.svg import esc
from kunren.reports.texts import Texts
from kunren.reports.timeline_table import PER_KIND
from tests.fixtures.timelines.records import DRILLS, Q3

ALERTS = PER_KIND + 700
NOTES = PER_KIND + 40
FIXTURE = EventLog(DRILLS / Q3).read()
# the fixture has alerts and notes of its own, counted with ours in their kind
ALERT_AT = [100.0 + n for n in range(ALERTS)]
NOTE_AT = [200.0 + n for n in range(NOTES)]
HIDDEN_ALERTS = ALERTS + sum(isinstance(e, ev.Alert) for e in FIXTURE) - PER_KIND
HIDDEN_NOTES = NOTES + sum(isinstance(e, ev.Note) for e in FIXTURE) - PER_KIND


def _first_of_ours(kind: type[ev.Event], ours: list[float]) -> int:
    """How many of ours are among the first PER_KIND of their kind in drill-time order."""
    times = sorted([(e.at, 0) for e in FIXTURE if isinstance(e, kind)] + [(at, 1) for at in ours])
    return sum(mine for _, mine in times[:PER_KIND])


@pytest.fixture
def long_drill(tmp_path: Path) -> Path:
    """The Q3 fixture drill with a chatty alert and a crowd's notes appended."""
    drill = tmp_path / "drills" / Q3
    shutil.copytree(DRILLS / Q3, drill)
    events = EventLog(drill).read()
    extra: list[ev.Event] = []
    for n in range(ALERTS):
        status = "firing" if n % 2 == 0 else "resolved"
        extra.append(ev.Alert(at=ALERT_AT[n], name="api-5xx", status=status, source="alertmanager"))
    for n in range(NOTES):
        extra.append(ev.Note(at=NOTE_AT[n], text=f"looking {n}", actor="ann"))
    ended = [e for e in events if isinstance(e, ev.DrillEnded)]
    body = [e for e in events if not isinstance(e, ev.DrillEnded)]
    lines = [
        e.model_copy(update={"seq": number}).model_dump_json() + "\n"
        for number, e in enumerate([*body, *extra, *ended], start=1)
    ]
    (drill / EVENTS_FILE).write_text("".join(lines), encoding="utf-8")
    return drill


def _timeline_section(html: str) -> str:
    match = re.search(r'<section id="timeline">(.*?)</section>', html, re.S)
    assert match is not None
    return match.group(1)


def test_the_table_lists_at_most_per_kind_of_each_and_counts_the_rest(
    long_drill: Path, tmp_path: Path
) -> None:
    html = write_report([long_drill], "html", tmp_path / "r.html").read_text("utf-8")
    section = _timeline_section(html)
    table = section[section.index("<table>") :]
    assert table.count("alert api-5xx") == _first_of_ours(ev.Alert, ALERT_AT)
    assert table.count("looking ") == _first_of_ours(ev.Note, NOTE_AT)
    assert f"… {HIDDEN_ALERTS:,} more entries of this kind (alert), from " in table
    assert f"… {HIDDEN_NOTES:,} more entries of this kind (note), from " in table
    # every milestone and notice of the drill is still listed, in its own words
    card = build_scorecard([long_drill], timeline="marks")
    tx = Texts("en", card)
    kept = [e for e in card.entries() if e.kind in ("milestone", "notification")]
    assert kept
    assert all(f"<td>{esc(tx.entry(e))}" in table for e in kept)
    note = section[section.index("</table>") :]
    record = long_drill / EVENTS_FILE
    assert f"This table lists at most {PER_KIND:,} entries of each kind" in note
    assert f"`kunren log {Q3}` prints it" in note
    assert str(record) in note


def test_the_japanese_report_says_the_same(long_drill: Path, tmp_path: Path) -> None:
    html = write_report([long_drill], "html", tmp_path / "r.html", lang="ja").read_text("utf-8")
    section = _timeline_section(html)
    assert f"この種類（alert）の項目があと {HIDDEN_ALERTS:,} 件" in section
    assert f"この表は種類ごとに最大 {PER_KIND:,} 件までを載せています" in section
    assert f"`kunren log {Q3}` で 1 行に 1 イベントずつ表示でき" in section
    assert str(long_drill / EVENTS_FILE) in section
    assert "more entries" not in html and "This table lists" not in html


def test_the_notes_list_is_bounded_too(long_drill: Path, tmp_path: Path) -> None:
    en = write_report([long_drill], "html", tmp_path / "en.html").read_text("utf-8")
    ja = write_report([long_drill], "html", tmp_path / "ja.html", lang="ja").read_text("utf-8")
    notes = en[en.index('<section id="notes">') :]
    plain = build_scorecard([long_drill]).notes  # action items are listed apart, all of them
    assert len(plain) > PER_KIND
    assert sum(notes.count(f"<li>{esc(n.text)} ") for n in plain[:PER_KIND]) == PER_KIND
    assert f"… {len(plain) - PER_KIND:,} more notes, from " in notes
    assert f"(`kunren log {Q3}` prints every one)" in notes
    assert f"… ほかにメモが {len(plain) - PER_KIND:,} 件" in ja


def test_a_drill_of_ordinary_size_loses_nothing(tmp_path: Path) -> None:
    html = write_report([DRILLS / Q3], "html", tmp_path / "r.html").read_text("utf-8")
    assert "more entries of this kind" not in html
    assert "This table lists at most" not in html
    rows = _timeline_section(html).count("<tr>") - 1  # the header
    listed = [e for e in FIXTURE if e.type not in _OFF_TIMELINE]
    assert rows == len(listed) - sum(isinstance(e, ev.Readiness) and e.ok for e in FIXTURE)


_OFF_TIMELINE = {
    "fault.injecting",
    "fault.reverting",
    "service.started",
    "service.stopped",
    "load.stats",
    "amendment",
}


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_markdown_report_is_bounded_the_same_way(
    long_drill: Path, tmp_path: Path, lang: str
) -> None:
    text = write_report([long_drill], "md", tmp_path / "r.md", lang=lang).read_text("utf-8")
    timeline = text[text.index("\n## ") :]
    assert text.count("looking ") == 2 * PER_KIND  # the table's, and the notes list's
    if lang == "en":
        assert f"… {HIDDEN_ALERTS:,} more entries of this kind (alert), from " in timeline
        assert f"This table lists at most {PER_KIND:,} entries of each kind" in timeline
        assert f"kunren log {Q3}" in timeline
    else:
        assert f"この種類（alert）の項目があと {HIDDEN_ALERTS:,} 件" in timeline
        assert f"この表は種類ごとに最大 {PER_KIND:,} 件までを載せています" in timeline
    assert str(long_drill / EVENTS_FILE) in text
