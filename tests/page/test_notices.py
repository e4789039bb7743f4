"""Customer notices from the page, over kunren.notify with the shipped tabletop scenario."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kunren.notify import NoticeService
from kunren.page import LocalDrillControl
from kunren.runtime.context import drill_context
from kunren.scenarios.loader import load_scenario
from kunren.scenarios.models import Role
from tests.page.conftest import (
    PHONE,
    Browserless,
    LiveDrill,
    expect,
    make_drill,
    open_page,
    stop_drill,
)
from tests.page.conftest import join as join_page

REPO = Path(__file__).resolve().parents[2]
TABLETOP = REPO / "scenarios" / "tabletop-notify.yaml"
NOTICE = {
    "template": "investigating",
    "lang": "ja",
    "audience": "drill-customers",
    "var.start_time": "14:05",
}


@pytest.fixture
def drill(tmp_path: Path) -> Iterator[LiveDrill]:
    loaded = load_scenario(TABLETOP)

    def service(control: LocalDrillControl) -> NoticeService:
        ctx = drill_context(loaded, drill_dir=control.recorder.log.drill_dir, clock=control.clock)
        return NoticeService(ctx, control.recorder)

    # an observer only notices problems: no notice form for that role
    observer = Role(milestones=["detected"])
    scenario = loaded.scenario.model_copy(
        update={"roles": {**loaded.scenario.roles, "observer": observer}}
    )
    live = make_drill(tmp_path, scenario, notices=service)
    try:
        yield live
    finally:
        stop_drill(live)


def join(drill: LiveDrill, name: str, role: str) -> Browserless:
    person = Browserless(drill, drill.ptoken)
    assert person.join(name, role).status_code == 200
    return person


def test_a_preview_shows_the_wording_and_reach_and_records_nothing(drill: LiveDrill) -> None:
    aiko = join(drill, "Aiko", "support")
    page = aiko.http.get("/").text
    assert "お客様へのお知らせ" not in page  # the page follows the browser: English here
    assert 'name="var.start_time"' in page and "Investigating" in page
    reply = aiko.post("/notice", {**NOTICE, "action": "preview", "var.service": "<b>Shop</b>"})
    preview = reply.json()["preview"]
    assert preview["subject"].startswith("[DRILL]") and "<b>Shop</b>" in preview["subject"]
    assert preview["recipients"] == (
        "16 customers. In this drill nobody really gets it: all are only recorded."
    )
    assert drill.of_type("notification") == []
    aiko.close()


def test_a_notice_is_drafted_approved_by_the_commander_and_sent_once(drill: LiveDrill) -> None:
    aiko = join(drill, "Aiko", "support")
    kim = join(drill, "Kim", "commander")
    direct = aiko.post("/notice", {**NOTICE, "action": "send", "key": "s0"})
    assert direct.status_code == 400
    assert (
        direct.json()["error"] == "Notices in this drill need approval by Incident commander first."
    )

    drill.clock.advance(540)
    drafted = aiko.post("/notice", {**NOTICE, "action": "draft", "var.service": "<i>Shop</i>"})
    assert drafted.json()["message"].startswith("Sent to Incident commander for approval.")
    (draft,) = drill.of_type("notification")
    assert (draft.status, draft.sender, draft.role, draft.at) == (
        "drafted",
        "Aiko",
        "support",
        540.0,
    )

    assert draft.notice not in aiko.http.get("/").text  # only approvers see what waits
    kim_page = kim.http.get("/").text
    assert f'data-notice="{draft.notice}"' in kim_page
    assert "&lt;i&gt;Shop&lt;/i&gt;" in kim_page and "<i>Shop</i>" not in kim_page
    refused = aiko.post("/notice/decide", {"notice": draft.notice, "decision": "approve"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "Your role does not approve notices."
    drill.clock.advance(60)
    approved = kim.post("/notice/decide", {"notice": draft.notice, "decision": "approve"})
    assert approved.json()["message"] == f"Notice {draft.notice} approved."

    assert f'data-notice="{draft.notice}"' in aiko.http.get("/").text  # ready to send
    send = {"notice": draft.notice, "action": "send", "key": "s1"}
    first = aiko.post("/notice", send)
    again = aiko.post("/notice", send)  # a double click
    assert first.json() == again.json()
    assert first.json()["message"].startswith("Sent: 0 people got it. 16 more were only recorded")
    statuses = [(n.status, n.sender, n.role) for n in drill.of_type("notification")]
    assert statuses == [
        ("drafted", "Aiko", "support"),
        ("approved", "Kim", "commander"),
        ("sent", "Aiko", "support"),
    ]
    resend = aiko.post("/notice", {**send, "key": "s2"})
    assert resend.status_code == 400
    assert resend.json()["error"] == "This notice was sent already and reached everyone."
    aiko.close()
    kim.close()


def test_a_role_without_the_customer_milestone_gets_no_notice_form(drill: LiveDrill) -> None:
    lee = join(drill, "Lee", "observer")
    assert 'id="notices"' not in lee.http.get("/").text
    refused = lee.post("/notice", {**NOTICE, "action": "preview"})
    assert refused.status_code == 403
    aiko = join(drill, "Aiko", "support")
    assert 'id="notices"' in aiko.http.get("/").text
    lee.close()
    aiko.close()


@pytest.mark.browser
def test_in_the_browser_a_notice_is_previewed_requested_approved_and_sent(
    drill: LiveDrill, browser: Any, tmp_path: Path
) -> None:
    aiko = open_page(browser, drill.server.link("/", drill.ptoken), viewport=PHONE)
    join_page(aiko, "Aiko", "support")
    kim = open_page(browser, drill.server.link("/", drill.ptoken))
    join_page(kim, "Kim", "commander")

    form = aiko.locator("#notice-form")
    form.locator("#n-lang").select_option("en")
    form.locator("#n-investigating-workaround").fill("call us at 0120-000-000")
    form.get_by_role("button", name="Preview").click()
    preview = aiko.locator("#notice-preview")
    expect(preview.locator("[data-subject]")).to_contain_text("[DRILL]")
    expect(preview.locator("[data-body]")).to_contain_text("call us at 0120-000-000")
    expect(preview.locator("[data-recipients]")).to_have_text(
        "16 customers. In this drill nobody really gets it: all are only recorded."
    )
    assert drill.of_type("notification") == []
    shot = tmp_path / "notice.png"
    aiko.locator("#notices").screenshot(path=str(shot))
    if os.environ.get("KUNREN_SCREENSHOTS"):
        shutil.copy(shot, Path(os.environ["KUNREN_SCREENSHOTS"]) / "notice.png")

    preview.get_by_role("button", name="Ask Incident commander to approve").click()
    expect(aiko.locator("#notice-result")).to_contain_text("Sent to Incident commander")

    kim.reload()
    pending = kim.locator(".notice[data-notice]")
    expect(pending).to_contain_text("call us at 0120-000-000")
    pending.get_by_role("button", name="Approve").click()
    expect(kim.locator(".flash")).to_contain_text("approved")

    aiko.reload()
    aiko.locator("form.notice").get_by_role("button", name="Send to customers").dblclick()
    expect(aiko.locator(".flash")).to_contain_text("Sent: 0 people got it. 16 more were only")
    sent = drill.wait_for(lambda evs: any(getattr(e, "status", "") == "sent" for e in evs))
    statuses = [e.status for e in sent if e.type == "notification"]
    assert statuses == ["drafted", "approved", "sent"]


def test_a_cleared_field_is_missing_in_the_preview_not_refilled(drill: LiveDrill) -> None:
    aiko = join(drill, "Aiko", "support")
    reply = aiko.post(
        "/notice",
        {**NOTICE, "action": "preview", "var.affected_features": "", "lang": "ja"},
        **{"Accept-Language": "ja"},
    )
    preview = reply.json()["preview"]
    assert preview["missing"] == "未入力: 影響を受けている機能"
    assert preview["sendable"] is False
    assert "{{ affected_features }}" in preview["subject"]
    aiko.close()
