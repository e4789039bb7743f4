"""The scenario's checklist, checked on each notice: what it must say, and must not."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kunren.notify.checklist import check, internal_names, lacking
from kunren.notify.variables import promised_time
from kunren.scenarios.models import Scenario
from tests.notify.conftest import customers, shipped_templates, write_audience

ALL: list[Any] = ["affected", "workaround", "next_update", "no_eta", "no_internal_hosts"]
USED = ["affected_features", "workaround", "next_update_time"]
FULL = {"affected_features": "booking", "workaround": "call us", "next_update_time": "15:30"}


def test_a_complete_notice_meets_every_item() -> None:
    results = check(ALL, state="investigating", text="Booking is down.", values=FULL, used=USED)
    assert lacking(results) == []


def test_missing_details_and_forbidden_words_are_each_named() -> None:
    text = "Booking will be restored by 15:00. db-primary.internal (10.0.3.7) failed."
    values = {"affected_features": "booking", "workaround": " "}
    results = check(ALL, state="investigating", text=text, values=values, used=USED)
    assert lacking(results) == ["workaround", "next_update", "no_eta", "no_internal_hosts"]
    found = {r.item: r.found for r in results if r.found}
    assert found == {"no_eta": "will be restored by", "no_internal_hosts": "10.0.3.7"}


def test_a_final_notice_needs_no_next_update_and_scenario_names_count_as_internal() -> None:
    scenario = Scenario.model_validate(
        {
            "version": 1,
            "id": "x",
            "title": "x",
            "duration": "10m",
            "targets": {
                "shop-proc": {"process": {"service": "shop"}},
                "web": {"url": "http://shop.lan:8080"},
            },
        }
    )
    names = internal_names(scenario)
    assert names == ["shop-proc", "shop.lan"]  # "web" reads as a word: not flagged
    results = check(
        ["next_update", "no_internal_hosts"],
        state="resolved",
        text="The web shop works again; shop-proc was restarted.",
        values={},
        used=[],
        internal=names,
    )
    assert [(r.item, r.ok, r.found) for r in results] == [
        ("next_update", True, ""),
        ("no_internal_hosts", False, "shop-proc"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("15:30 JST", "2024-05-01 15:30"), ("9:05", "2024-05-02 09:05"), ("soon", None)],
)
def test_the_promised_time_is_the_next_such_time_in_the_drills_zone(
    text: str, expected: str | None
) -> None:
    sent = datetime(2024, 5, 1, 14, 10, tzinfo=ZoneInfo("Asia/Tokyo"))
    promised = promised_time(text, sent)
    assert (promised.strftime("%Y-%m-%d %H:%M") if promised else None) == expected


def test_the_preview_shows_the_checklist_and_the_send_records_it(
    make_drill: Any, tmp_path: Path
) -> None:
    write_audience(tmp_path / "c.csv", customers(4, "example.jp"))
    drill = make_drill(
        {
            "templates": shipped_templates("investigating"),
            "audiences": {"c": {"file": "c.csv"}},
            "checklist": ALL,
            "variables": {"service": "Shop", "affected_features": "booking"},
        },
        timezone="Asia/Tokyo",
    )
    service = drill.service()
    preview = service.preview("investigating", "en", vars={"next_update_time": "15:30 JST"})
    assert [(c.item, c.ok) for c in preview.checks] == [
        ("affected", True),
        ("workaround", False),
        ("next_update", True),
        ("no_eta", True),
        ("no_internal_hosts", True),
    ]
    cleared = service.preview("investigating", "en", vars={"affected_features": ""})
    assert "affected_features" in cleared.missing  # a cleared field does not refill itself
    from kunren.notify import NoticeRequest

    drill.clock.advance(600)  # 14:10 JST
    service.send(
        NoticeRequest(template="investigating", lang="en", vars={"next_update_time": "15:30 JST"}),
        sender="aiko",
        role="support",
    )
    (event,) = [e for e in drill.notifications() if e.status == "sent"]
    assert event.lacking == ["workaround"]
    assert event.next_update_at == 600 + 80 * 60  # 15:30 is 80 minutes after 14:10
