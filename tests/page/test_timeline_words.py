"""The facilitator's timeline is worded from timeline entries, in the page's language."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kunren.page import timeline_words
from kunren.page.i18n import Translator
from kunren.record import events as ev
from kunren.record.timeline import Entry, entry
from kunren.scenarios.models import Scenario
from tests.page.conftest import SCENARIO
from tests.record.test_timeline import ONE_OF_EACH

EN, JA = Translator("en"), Translator("ja")


@pytest.fixture
def scenario() -> Scenario:
    return Scenario.model_validate(SCENARIO)


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=lambda e: e.type)
def test_every_event_type_has_a_heading_and_a_line_in_both_languages(
    event: ev.Event, scenario: Scenario
) -> None:
    made = entry(event)
    headings = timeline_words.kind(made, EN), timeline_words.kind(made, JA)
    assert event.type not in headings  # a heading of its own, never the raw type
    assert headings[0] != headings[1]
    english = timeline_words.detail(made, EN, scenario)
    japanese = timeline_words.detail(made, JA, scenario)
    assert english and japanese
    if event.type not in ("note", "drill.started"):  # the record's own words in both
        assert english != japanese
    leftovers = set(re.findall(r"[a-z]{4,}", japanese)) - set(
        re.findall(r"[a-z]{4,}", event.model_dump_json())
    )
    assert leftovers == set(), japanese


def test_people_lines_name_who_in_which_role_in_the_scenarios_words(
    scenario: Scenario,
) -> None:
    mark = entry(ev.Milestone(name="detected", actor="Aiko", role="support", note="via chat"))
    assert timeline_words.detail(mark, EN, scenario) == (
        "Aiko (Support): I noticed a problem (on the page): via chat"
    )
    assert timeline_words.detail(mark, JA, scenario) == (
        "Aiko(サポート): 異常に気づいた(参加者のページ): via chat"
    )
    inject = entry(ev.Inject(kind="inquiry", text="Is the shop down?", to=["sre", "support"]))
    assert timeline_words.detail(inject, EN, scenario) == (
        "Customer inquiry → SRE, Support: Is the shop down?"
    )


def test_a_sent_notice_line_has_its_template_title_and_delivery_counts(
    scenario: Scenario,
) -> None:
    sent = entry(
        ev.Notification(
            notice="n7",
            status="sent",
            channel="email",
            template="investigating",
            sender="Sato",
            role="support",
            recipients=8,
            delivered=5,
            captured=2,
            failed=["x@example.com"],
            note="one bounced",
        )
    )
    assert sent.status == "partial"  # the report's word; the page says it with counts
    titles = {"investigating": "調査中のお知らせ"}
    assert timeline_words.detail(sent, JA, scenario, titles) == (
        "Sato(サポート) が 調査中のお知らせ を送信(n7): "
        "email: 送信 5 名、記録のみ 2 名、未達 1 名 (one bounced)"
    )
    drafted = entry(
        ev.Notification(notice="n7", status="drafted", sender="Sato", template="investigating")
    )
    assert timeline_words.detail(drafted, EN, scenario) == "Sato drafted investigating (n7)"


def test_system_entries_get_the_timelines_shared_sentence(scenario: Scenario) -> None:
    exited = entry(ev.ServiceExited(name="shop", code=-9))
    assert timeline_words.kind(exited, JA) == "サービスが終了"
    assert timeline_words.detail(exited, EN, scenario) == "service shop exited by itself (code -9)"
    ended = entry(ev.DrillEnded())
    assert timeline_words.detail(ended, JA, scenario) == "訓練終了：予定時間に到達"


def test_a_line_is_worded_from_an_entry_alone(scenario: Scenario) -> None:
    made = Entry(seq=3, at=60, kind="load.stats", lane="load", count=12.0, failures_per_s=1.5)
    assert timeline_words.detail(made, EN, scenario) == "12.0 rps, 1.5 failures/s"
    assert timeline_words.detail(made, JA, scenario) == "12.0 rps、失敗 1.5/秒"


def test_the_page_words_entries_and_never_reads_events() -> None:
    source = Path(timeline_words.__file__).read_text(encoding="utf-8")
    imported = {
        node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "kunren.record.timeline" in imported
    assert "kunren.record.events" not in imported
