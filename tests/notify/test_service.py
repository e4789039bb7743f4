"""NoticeService: preview, the approval flow (its timestamps reach the scorer), variables,
the status page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kunren.errors import GuardrailError, InputError, PluginError, UsageError
from kunren.notify import NoticeRequest
from kunren.record.events import ProbeFailed
from kunren.scorers.score import score
from tests.notify.conftest import Drill, customers, shipped_templates, write_audience

VARS = {"service": "Shop", "affected_features": "booking", "next_update_time": "15:30"}


def notice_drill(make_drill: Any, tmp_path: Path, **notifications: Any) -> Drill:
    rows = customers(6, "example.jp") + [("dup@example.com", "", "standard", "en")] * 2
    write_audience(tmp_path / "audiences" / "c.csv", rows)
    spec: dict[str, Any] = {
        "templates": shipped_templates(),
        "audiences": {"customers": {"file": "audiences/c.csv"}},
        "channels": ["capture"],
        "drill_allowlist": ["customer0001@example.jp"],
    }
    spec.update(notifications)
    drill: Drill = make_drill(spec)
    return drill


def test_preview_counts_recipients_and_reach_and_records_nothing(
    make_drill: Any, tmp_path: Path
) -> None:
    drill = notice_drill(make_drill, tmp_path)

    preview = drill.service().preview("investigating", "ja", None, {"service": "Shop"})

    assert (preview.recipient_count, preview.allowed_count, preview.captured_count) == (7, 1, 6)
    assert preview.languages == {"en": 4, "ja": 3}
    assert (
        preview.subject
        == "[DRILL] 【調査中】Shopで{{ affected_features }}がご利用いただけない状況について"
    )
    assert preview.missing == ["affected_features"]
    # the template has both languages: each recipient gets their own, nobody a mismatch
    assert [w.code for w in preview.warnings] == ["no-next-update", "duplicates"]
    assert preview.versions == {"ja": 3, "en": 4}
    assert drill.notifications() == []
    with pytest.raises(InputError, match="undefined variable: affected_features"):
        drill.service().preview("investigating", "ja", None, {"service": "Shop"}, strict=True)


def test_draft_approve_send_are_recorded_with_three_timestamps(
    make_drill: Any, tmp_path: Path
) -> None:
    drill = notice_drill(make_drill, tmp_path, approval={"by": "commander"})
    service = drill.service()

    drill.clock.advance(300)
    drafted = service.draft(
        "investigating", "en", "customers", VARS, author="alice", role="support"
    )
    drill.clock.advance(90)
    service.approve(drafted.notice, "carol", "commander")
    drill.clock.advance(30)
    result = service.send(drafted.notice, sender="alice", role="support")

    events = [e for e in drill.notifications() if e.notice == drafted.notice]
    assert [(e.status, e.at) for e in events] == [
        ("drafted", 300.0),
        ("approved", 390.0),
        ("sent", 420.0),
    ]
    assert [(e.sender, e.role, e.approver) for e in events] == [
        ("alice", "support", None),
        ("carol", "commander", "carol"),
        ("alice", "support", "carol"),
    ]
    assert [e.recipients for e in events] == [7, 7, 7] and events[2].captured == 7
    assert events[0].wall.startswith("2024-05-01T14:05:00")
    state = service.notice(drafted.notice)
    assert (state.status, state.approval_wait, state.sent_at, state.approver) == (
        "sent",
        90.0,
        420.0,
        "carol",
    )
    assert result.notice == drafted.notice

    card = score(drill.ctx.scenario, drill.events())
    (wait,) = card.approval_waits
    assert (wait.notice, wait.seconds, wait.approver) == (drafted.notice, 90.0, "carol")
    (notice,) = card.notices
    assert (notice.drafted_at, notice.approved_at, notice.sent_at) == (300.0, 390.0, 420.0)
    assert (notice.sender, notice.status) == ("alice", "sent")
    assert card.team_health.notice_senders == 1
    assert card.team_health.people == {"support": ["alice"], "commander": ["carol"]}


def test_the_send_uses_the_approved_wording(make_drill: Any, tmp_path: Path) -> None:
    drill = notice_drill(make_drill, tmp_path, approval={"by": ["commander", "sre"]})
    service = drill.service()
    drafted = service.draft("resolved", "ja", None, VARS, author="alice", role="support")
    service.approve(drafted.notice, "dave", "sre")

    service.send(drafted.notice, sender="erin", role="support")

    folder = drill.folder / "notices" / drafted.notice
    japanese = (folder / "customer0001@example.jp.txt").read_text(encoding="utf-8")
    assert f"Subject: {drafted.subject}\n" in japanese
    assert "[DRILL] これは訓練です。" in japanese
    english = (folder / "customer0002@example.jp.txt").read_text(encoding="utf-8")
    assert "Subject: [DRILL] Shop: resolved, booking back to normal\n" in english
    (sent,) = [e for e in drill.notifications() if e.status == "sent"]
    assert sent.languages == {"ja": 3, "en": 4}  # the record says how many got which
    stored = json.loads((drill.folder / "notices" / drafted.notice / "notice.json").read_text())
    assert stored["author"] == "alice" and stored["vars"]["service"] == "Shop"


def test_approval_guards(make_drill: Any, tmp_path: Path) -> None:
    drill = notice_drill(make_drill, tmp_path, approval={"by": "commander"})
    service = drill.service()
    drafted = service.draft("investigating", None, None, VARS, author="alice", role="support")
    notice = drafted.notice

    with pytest.raises(GuardrailError, match="need approval by commander: draft the notice first"):
        service.send(NoticeRequest(template="investigating", vars=VARS), sender="a", role="x")
    with pytest.raises(GuardrailError, match=f"notice {notice} waits for approval by commander"):
        service.send(notice, sender="alice", role="support")
    with pytest.raises(GuardrailError, match=r"bob \(support\) may not decide on notices"):
        service.approve(notice, "bob", "support")
    with pytest.raises(GuardrailError, match=f"alice drafted notice {notice}: someone else"):
        service.approve(notice, "alice", "commander")
    with pytest.raises(UsageError, match="unknown notice 'n-000000'"):
        service.approve("n-000000", "carol", "commander")

    service.reject(notice, "carol", "commander", "say which features are affected")

    with pytest.raises(GuardrailError, match=f"notice {notice} was rejected by carol"):
        service.send(notice, sender="alice", role="support")
    with pytest.raises(GuardrailError, match=f"notice {notice} is rejected already"):
        service.approve(notice, "carol", "commander")
    state = service.notice(notice)
    assert (state.status, state.reason) == ("rejected", "say which features are affected")
    assert [e.status for e in drill.notifications()] == ["drafted", "rejected"]


def test_without_approval_a_notice_is_sent_directly_and_only_once(
    make_drill: Any, tmp_path: Path
) -> None:
    drill = notice_drill(make_drill, tmp_path)
    service = drill.service()

    result = service.send(
        NoticeRequest(template="investigating", vars=VARS), sender="bob", role="support"
    )

    assert [(e.status, e.notice) for e in drill.notifications()] == [("sent", result.notice)]
    with pytest.raises(GuardrailError, match=f"notice {result.notice} was sent already"):
        service.send(result.notice, sender="bob", role="support")
    with pytest.raises(InputError, match="undefined variable: service"):
        service.send(NoticeRequest(template="identified"), sender="bob", role="support")
    with pytest.raises(PluginError, match="unknown channel 'pager'"):
        service.send(
            NoticeRequest(template="identified", vars=VARS, channels=["pager"]),
            sender="bob",
            role="support",
        )
    assert len(drill.notifications()) == 1


def test_variables_come_from_the_drill_the_scenario_and_the_sender(
    make_drill: Any, tmp_path: Path
) -> None:
    drill = notice_drill(
        make_drill, tmp_path, variables={"service": "Shop", "next_update_in": "30m"}
    )
    # times in the drill's zone, and saying which
    drill.ctx.scenario = drill.ctx.scenario.model_copy(update={"timezone": "Asia/Tokyo"})
    drill.clock.advance(120)
    drill.recorder.record(ProbeFailed(probe="shop-health", detail="HTTP 500"))
    drill.clock.advance(480)

    values = drill.service().variables({"affected_features": "search"})

    assert values["start_time"] == "2024-05-01 14:02 JST"
    assert values["now"] == "2024-05-01 14:10 JST"
    assert values["next_update_time"] == "14:40 JST"
    assert (values["service"], values["affected_features"], values["marker"]) == (
        "Shop",
        "search",
        "[DRILL]",
    )
    assert drill.service().variables({"next_update_time": "15:00"})["next_update_time"] == "15:00"


def test_the_status_page_shows_the_newest_notice_first(make_drill: Any, tmp_path: Path) -> None:
    drill = notice_drill(make_drill, tmp_path, channels=["statuspage"])
    service = drill.service()
    odd = dict(VARS, service="<Shop & Co>")

    first = service.send(NoticeRequest(template="investigating", vars=odd), sender="a", role="x")
    drill.clock.advance(600)
    second = service.send(NoticeRequest(template="resolved", vars=odd), sender="b", role="x")

    page = drill.folder / "statuspage"
    feed = json.loads((page / "feed.json").read_text(encoding="utf-8"))
    assert feed["status"] == "resolved"
    assert [e["notice"] for e in feed["entries"]] == [second.notice, first.notice]
    assert [e["at"] for e in feed["entries"]] == [600.0, 0.0]
    html = (page / "index.html").read_text(encoding="utf-8")
    assert '<p class="drill">[DRILL] This is a drill.' in html
    assert 'id="status">resolved</div>' in html
    assert "&lt;Shop &amp; Co&gt;" in html and "<Shop & Co>" not in html
    (event,) = second.events
    assert (event.channel, event.delivered, event.recipients) == ("statuspage", 1, 1)
