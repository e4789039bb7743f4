"""The Customer notices section shows notice quality and cadence, in English and Japanese alike:
what each notice lacked of the checklist, and each promised update kept, late, or censored."""

from __future__ import annotations

import html
import json
import re

import pytest

from kunren.record.events import DrillStarted
from kunren.reports import render
from kunren.reports.texts import CATALOG
from kunren.scorers import Scorecard, score
from tests.reports.notices import quality_card, quality_events, quality_scenario, sent
from tests.scorers.helpers import record, scenario

ROWS = {
    "en": [
        [
            "10:00",
            "investigating",
            "aiko",
            "not met: a workaround for customers, no internal host names",
            "30:00",
            "25:00",
            "on time",
        ],
        ["25:00", "identified", "ken", "meets all 5", "40:00", "48:00", "8 min late"],
        [
            "48:00",
            "investigating",
            "aiko",
            "meets all 5",
            "50:00",
            "none before the drill ended",
            "10+ min late (no update before the drill ended)",
        ],
    ],
    "ja": [
        [
            "10:00",
            "investigating",
            "aiko",
            "満たしていない項目：代替手段、社内のホスト名を含めない",
            "30:00",
            "25:00",
            "予定どおり",
        ],
        ["25:00", "identified", "ken", "5 項目すべて満たしています", "40:00", "48:00", "8分遅れ"],
        [
            "48:00",
            "investigating",
            "aiko",
            "5 項目すべて満たしています",
            "50:00",
            "訓練終了までになし",
            "10分以上遅れ（訓練終了までに次のお知らせなし）",
        ],
    ],
}

LINES = {
    "en": [
        "Checklist (from the scenario): what is affected, a workaround for customers, "
        "when the next update comes, no promised fix time, no internal host names",
        "1 of 3 notices did not meet the checklist.",
        "Promised next updates: 1 on time, 1 late, 1 with no update before the drill ended.",
    ],
    "ja": [
        "チェックリスト（シナリオの指定）：影響範囲、代替手段、次回のお知らせ予定、"
        "復旧時刻を約束しない、社内のホスト名を含めない",
        "告知 3 件中 1 件がチェックリストを満たしていません。",
        "次回のお知らせの約束：予定どおり 1 件、遅れ 1 件、訓練終了までにお知らせなし 1 件。",
    ],
}

HEADERS = {
    "en": [
        "Sent",
        "Template",
        "Sender",
        "Checklist",
        "Next update promised for",
        "Next notice went out",
        "Promise kept?",
    ],
    "ja": [
        "送信",
        "テンプレート",
        "送信者",
        "チェックリスト",
        "次回のお知らせの予定",
        "次の告知の送信",
        "約束どおりか",
    ],
}

TITLE = {"en": "Notice quality and cadence", "ja": "告知の質と更新間隔"}


def notices_section(text: str, fmt: str) -> str:
    if fmt == "html":
        return text.split('<section id="notices">', 1)[1].split("</section>", 1)[0]
    return text.split("\n## ", 6)[6].split("\n## ", 1)[0]  # the sixth section


def html_table(section: str) -> list[list[str]]:
    """The quality table's cells as text, header row first."""
    table = section.split('<table class="quality">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]
        for cells in (re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows)
    ]


def md_table(section: str) -> list[list[str]]:
    part = section.split("### ", 1)[1]
    lines = [line for line in part.splitlines() if line.startswith("|") and "---" not in line]
    return [[cell.strip().strip("*") for cell in line.strip("|").split(" | ")] for line in lines]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_html_shows_what_each_notice_lacked_and_each_promise_kept_late_or_censored(
    lang: str,
) -> None:
    section = notices_section(render(quality_card(), "html", lang), "html")
    assert f"<h3>{TITLE[lang]}</h3>" in section
    assert html_table(section) == [HEADERS[lang], *ROWS[lang]]
    for line in LINES[lang]:
        assert f'<p class="muted">{line}</p>' in section
    assert section.count('<td class="lacking">') == 1  # only the notice that lacked items
    assert section.count('<span class="tag missed censored">') == 1  # the censored promise


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_markdown_shows_the_same(lang: str) -> None:
    section = notices_section(render(quality_card(), "md", lang), "md")
    assert f"\n### {TITLE[lang]}\n" in section
    assert md_table(section) == [HEADERS[lang], *ROWS[lang]]
    for line in LINES[lang]:
        assert f"\n{line}\n" in section
    assert f"| **{ROWS[lang][0][3]}** |" in section  # the notice that lacked items stands out


def test_json_has_the_checklist_and_each_notice_s_quality() -> None:
    data = json.loads(render(quality_card(), "json"))
    assert data["scenario"]["checklist"] == [
        "affected",
        "workaround",
        "next_update",
        "no_eta",
        "no_internal_hosts",
    ]
    quality = [
        {k: n[k] for k in ("notice", "checked", "lacking", "next_update_at", "next_update")}
        for n in data["notices"]
    ]
    assert quality == [
        {
            "notice": "n-1",
            "checked": True,
            "lacking": ["workaround", "no_internal_hosts"],
            "next_update_at": 1800.0,
            "next_update": {
                "status": "on_time",
                "notice": "n-2",
                "at": 1500.0,
                "late_seconds": 0.0,
                "censored": False,
                "bound_seconds": None,
                "display": "on time",
            },
        },
        {
            "notice": "n-2",
            "checked": True,
            "lacking": [],
            "next_update_at": 2400.0,
            "next_update": {
                "status": "late",
                "notice": "n-3",
                "at": 2880.0,
                "late_seconds": 480.0,
                "censored": False,
                "bound_seconds": None,
                "display": "8 min late",
            },
        },
        {
            "notice": "n-3",
            "checked": True,
            "lacking": [],
            "next_update_at": 3000.0,
            "next_update": {
                "status": "no_update",
                "notice": None,
                "at": None,
                "late_seconds": None,  # censored: no measured-looking number
                "censored": True,
                "bound_seconds": 600.0,
                "display": "10+ min late (no update before the drill ended)",
            },
        },
    ]
    assert Scorecard.model_validate(data) == quality_card()


def _visible(text: str, fmt: str) -> str:
    if fmt == "md":
        return text
    return re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", text, flags=re.S))


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_the_japanese_section_has_no_english_left(fmt: str) -> None:
    section = _visible(notices_section(render(quality_card(), fmt, "ja"), fmt), fmt)
    record_text = "".join(e.model_dump_json() for e in quality_events())
    english = [
        en
        for en, ja in CATALOG.values()
        if en != ja and len(en) > 3 and "{" not in en and en not in record_text
    ]
    assert [p for p in english if re.search(rf"\b{re.escape(p)}\b", section)] == []
    for word in ("late", "on time", "not met", "meets", "promised", "update", "checklist"):
        assert word not in section.lower()


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_with_no_checklist_and_no_promise_nothing_extra_is_shown(fmt: str, lang: str) -> None:
    card = score(scenario(), record(sent("n-1", 600)))
    section = notices_section(render(card, fmt, lang), fmt)
    assert TITLE[lang] not in section
    assert "quality" not in section
    assert HEADERS[lang][4] not in section


def test_promises_without_a_checklist_show_only_the_cadence() -> None:
    events = record(sent("n-1", 600, promised=1800), sent("n-2", 2000))
    section = notices_section(render(score(scenario(), events), "md"), "md")
    assert md_table(section) == [
        ["Sent", "Template", "Sender", *HEADERS["en"][4:]],
        ["10:00", "investigating", "aiko", "30:00", "33:20", "3 min late"],
        ["33:20", "investigating", "aiko", "–", "–", "–"],
    ]
    assert "Checklist" not in section


def test_a_promise_due_after_the_drill_ended_is_not_called_late() -> None:
    events = record(sent("n-1", 600, promised=4000), end=3600)
    card = score(quality_scenario(), events)
    en = md_table(notices_section(render(card, "md"), "md"))
    ja = md_table(notices_section(render(card, "md", "ja"), "md"))
    assert en[1][4:] == ["1:06:40", "none before the drill ended", "not due: the drill ended first"]
    assert ja[1][4:] == ["1:06:40", "訓練終了までになし", "期限前に訓練が終了"]


def test_an_imported_drill_says_its_notices_were_not_checked() -> None:
    events = quality_events()
    events[0] = DrillStarted(
        seq=1, drill="d1", scenario_id="web-outage", duration=3600, source="import"
    )
    section = notices_section(render(score(quality_scenario(), events), "md"), "md")
    assert "Not checked: this drill was imported, so its notices were typed in afterwards." in (
        section
    )
    assert "did not meet" not in section
    assert [row[3] for row in md_table(section)[1:]] == ["not checked (imported)"] * 3
