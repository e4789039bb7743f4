"""A first-time support person, on a phone, in Japanese: from the join link to the first
[DRILL] notice in at most six taps, with a real SMTP server receiving the mail.

Every tap and every typed field is counted (typing counts as one). The second half stops the
SMTP server, sends the next notice, and checks that the page shows a failure with its reason
and that the retry reaches only those who did not get it. With ``KUNREN_SCREENSHOTS=docs/images``
the screenshots of each step are written for the README's section for support staff.
"""

from __future__ import annotations

import email
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from kunren.notify import NoticeService
from kunren.page import LocalDrillControl
from kunren.record.events import Inject, Notification
from kunren.runtime.context import drill_context
from kunren.scenarios.models import Scenario
from tests.notify.conftest import SmtpCollector, start_smtp, write_audience
from tests.page.conftest import PHONE, LiveDrill, expect, make_drill, open_page, stop_drill

pytestmark = [pytest.mark.browser, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "scenarios" / "templates"
MAX_TAPS = 6

CUSTOMERS = [
    ("sato@drill.example.jp", "佐藤 花子", "premium", "ja"),
    ("suzuki@drill.example.jp", "鈴木 太郎", "standard", "ja"),
    ("tanaka@drill.example.jp", "田中 健", "standard", "ja"),
    ("emma@drill.example.jp", "Emma Brown", "standard", "en"),
    ("liam@drill.example.jp", "Liam Chen", "premium", "en"),
    ("ito@example.com", "伊藤 美咲", "standard", "ja"),  # not on the allowlist: captured
    ("noah@example.com", "Noah Smith", "standard", "en"),
    ("kato@example.com", "加藤 翔", "premium", "ja"),
]
ALLOWED = {row[0] for row in CUSTOMERS if row[0].endswith("@drill.example.jp")}
LANGUAGE = {row[0]: row[3] for row in CUSTOMERS}


def scenario(tmp_path: Path, port: int) -> Scenario:
    audience = write_audience(tmp_path / "customers.csv", CUSTOMERS)
    templates = {
        name: {lang: str(TEMPLATES / f"{name}.{lang}.md.j2") for lang in ("ja", "en")}
        for name in ("investigating", "identified", "resolved")
    }
    return Scenario.model_validate(
        {
            "version": 1,
            "id": "booking-outage",
            "title": "予約システム障害訓練",
            "duration": "30m",
            "lang": "ja",
            "timezone": "Asia/Tokyo",
            "roles": {
                "support": {"milestones": ["detected", "customer_notified"]},
                "sre": {},
            },
            "notifications": {
                "templates": templates,
                "audiences": {
                    "customers": {
                        "file": str(audience),
                        "label": "All customers",
                        "label_ja": "すべてのお客様",
                    }
                },
                "channels": [
                    "capture",
                    {"email": {"host": "127.0.0.1", "port": port, "from": "drill@example.jp"}},
                ],
                "drill_allowlist": ["@drill.example.jp"],
                "variables": {
                    "service": "テーブル予約",
                    "affected_features": "オンライン予約",
                    "next_update_in": "30m",
                },
                "checklist": ["affected", "workaround", "next_update", "no_eta"],
            },
        }
    )


@dataclass
class Smtp:
    """A real aiosmtpd on loopback that can be stopped and started again on the same port."""

    handler: SmtpCollector = field(default_factory=SmtpCollector)
    controller: Any = None
    port: int = 0

    def start(self) -> None:
        self.controller = start_smtp(self.handler, port=self.port)
        self.port = self.controller.port

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self, notice: str) -> list[EmailMessage]:
        parsed = [
            email.message_from_bytes(m.content, _class=EmailMessage, policy=policy.default)
            for m in self.handler.messages
        ]
        return [m for m in parsed if m["X-Kunren-Notice"] == notice]


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def drill(tmp_path: Path, smtp: Smtp) -> Iterator[LiveDrill]:
    loaded = scenario(tmp_path, smtp.port)

    def service(control: LocalDrillControl) -> NoticeService:
        ctx = drill_context(
            loaded,
            scenario_dir=tmp_path,
            drill_dir=control.recorder.log.drill_dir,
            clock=control.clock,
        )
        return NoticeService(ctx, control.recorder)

    live = make_drill(tmp_path, loaded, notices=service)
    try:
        yield live
    finally:
        stop_drill(live)


class Taps:
    """Every input a person makes, counted; a screenshot after each step."""

    def __init__(self, page: Any, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.count = 0
        self.shots: list[Path] = []

    def type(self, locator: Any, text: str) -> None:
        locator.fill(text)
        self.count += 1

    def tap(self, locator: Any) -> None:
        locator.click()
        self.count += 1

    def shot(self, name: str) -> None:
        path = self.folder / f"{name}.png"
        self.page.screenshot(path=str(path))
        assert path.stat().st_size > 10_000  # something rendered, fonts included
        self.shots.append(path)


def publish(shots: list[Path]) -> None:
    target = os.environ.get("KUNREN_SCREENSHOTS")
    if target:
        for shot in shots:
            shutil.copy(shot, Path(target) / shot.name)


def sent_events(drill: LiveDrill, notice: str) -> list[Notification]:
    return [
        e
        for e in drill.events()
        if isinstance(e, Notification) and e.notice == notice and e.status in ("sent", "failed")
    ]


def test_a_first_time_support_person_sends_the_first_notice_in_six_taps(
    drill: LiveDrill, browser: Any, smtp: Smtp, tmp_path: Path
) -> None:
    drill.clock.advance(120)
    drill.control.record(
        Inject(
            kind="inquiry",
            text="お客様から電話: 予約ページでエラーが出て予約できない",
            to=["support"],
        )
    )
    drill.clock.advance(60)  # T+03:00
    page = open_page(browser, drill.server.link("/", drill.ptoken), locale="ja-JP", viewport=PHONE)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    taps = Taps(page, tmp_path)
    taps.shot("support-1-join")
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert icon is not None and icon.startswith("data:image/svg+xml,")

    taps.type(page.get_by_label("お名前"), "佐藤")
    taps.tap(page.get_by_role("button", name="サポートとして参加"))
    composer = page.locator("#notices")
    expect(composer.get_by_role("heading", name="お客様へのお知らせ")).to_be_visible()
    expect(page.locator("#situation")).to_contain_text("予約ページでエラーが出て")
    # the job first: the composer starts on the first screen, above the milestone buttons
    top = composer.bounding_box()
    assert top is not None and top["y"] < PHONE["height"]
    milestones = page.locator("#h-milestones").bounding_box()
    assert milestones is not None and milestones["y"] > top["y"]
    buttons = page.locator("form.milestone button")
    expect(buttons).to_have_text(["異常に気づいた", "お客様に告知した"])  # only support's
    first = composer.locator("label.choice").first
    expect(first).to_contain_text("調査中のお知らせ")
    expect(first).to_contain_text("障害に気づいたらまず送る第一報")
    expect(composer.locator("#n-audiences")).to_contain_text(
        "お客様 8 名。この訓練で実際に届くのは 5 名です(残り 3 名は記録のみで、送られません)。"
    )
    fields = composer.locator('fieldset[data-fields="investigating"] label')
    expect(fields).to_have_text(
        [
            "影響を受けている機能",
            "発生時刻(頃)",
            "お客様にお願いする代替手段",
            "次回のお知らせ予定時刻",
        ]
    )
    expect(composer.locator("#n-investigating-next_update_time")).to_have_value(
        re.compile(r"^\d{2}:\d{2} JST$")
    )
    taps.shot("support-2-composer")

    taps.type(composer.locator("#n-investigating-workaround"), "お電話でのご予約")
    taps.tap(composer.get_by_role("button", name="プレビュー"))
    preview = page.locator("#notice-preview")
    expect(preview.locator("[data-subject]")).to_contain_text(
        "[DRILL] 【調査中】テーブル予約でオンライン予約がご利用いただけない状況について"
    )
    expect(preview.locator("[data-body]")).to_contain_text("お電話でのご予約")
    expect(preview.locator("[data-checks] li.ok")).to_have_count(4)
    expect(preview.locator("[data-languages]")).to_have_text(
        "お客様ごとの言語で届きます: 日本語 5 名、English 3 名。"
    )
    taps.shot("support-3-preview")

    taps.tap(preview.get_by_role("button", name="送信へ進む"))
    confirm = page.locator("#notice-confirm")
    expect(confirm).to_contain_text("お客様 8 名に送信しますか?")
    expect(confirm).to_contain_text("実際に届くのは 5 名、残り 3 名は記録のみです。")
    taps.shot("support-4-confirm")
    assert smtp.handler.messages == []  # nothing goes out before the confirmation

    taps.tap(confirm.get_by_role("button", name="はい、8 名に送信します"))
    result = page.locator("#notice-result")
    expect(result).to_have_class("result ok")
    expect(result).to_contain_text(
        "送信しました。5 名に届きました。 ほか 3 名は訓練のため記録のみです。"
        " お客様ごとの言語で届きます: 日本語 5 名、English 3 名。"
    )
    notified = page.locator('form[data-milestone="customer_notified"]')
    expect(notified.locator("[data-status]")).to_have_text("T+03:00 のお知らせ送信で記録されました")
    expect(notified.get_by_role("button")).to_be_disabled()
    expect(page.locator("#summary [data-lines]")).to_contain_text(  # kept for the drill's end
        "調査中のお知らせ(T+03:00): 5 名に届きました"
    )
    taps.shot("support-5-sent")

    assert taps.count <= MAX_TAPS, f"{taps.count} inputs to the first notice"
    (email_event,) = [
        e for e in drill.events() if isinstance(e, Notification) and e.channel == "email"
    ]
    received = smtp.messages(email_event.notice)
    assert {str(m["To"].addresses[0].addr_spec) for m in received} == ALLOWED
    assert len(received) == len(ALLOWED)  # each once
    for message in received:
        assert message["Subject"].startswith("[DRILL] ")
        assert "[DRILL]" in message.get_content()
        address = str(message["To"].addresses[0].addr_spec)
        if LANGUAGE[address] == "ja":
            assert "【調査中】" in message["Subject"]
        else:
            assert message["Subject"].startswith("[DRILL] テーブル予約: investigating")
    assert email_event.languages == {"ja": 5, "en": 3}
    assert (email_event.delivered, email_event.captured, email_event.failed) == (5, 3, [])
    assert email_event.sender == "佐藤" and email_event.lacking == []

    # -- the mail server goes down: the next notice shows as failed, and the retry
    #    reaches only those it missed
    smtp.stop()
    drill.clock.advance(600)
    taps.tap(composer.locator("label.choice", has_text="原因特定のお知らせ"))
    composer.locator("#n-identified-cause").fill("予約システムの一部の不具合")
    composer.get_by_role("button", name="プレビュー").click()
    preview.get_by_role("button", name="送信へ進む").click()
    confirm.get_by_role("button", name="はい、8 名に送信します").click()
    expect(result).to_have_class("result bad")
    expect(result).to_contain_text("送信に失敗しました: 5 名に届いていません(届いたのは 0 名)。")
    expect(result.locator("[data-reasons]")).to_contain_text(
        "理由: メールサーバーに接続できませんでした(cannot reach 127.0.0.1"
    )
    retry = result.get_by_role("button", name="届かなかった 5 名にだけ再送する")
    expect(retry).to_be_visible()
    taps.shot("support-6-failed")
    (failed,) = [
        e for e in sent_events(drill, _second(drill, email_event.notice)) if e.channel == "email"
    ]
    assert (failed.status, failed.delivered, sorted(failed.failed)) == (
        "failed",
        0,
        sorted(ALLOWED),
    )

    smtp.start()  # the same port again
    retry.click()
    expect(result).to_have_class("result ok")
    expect(result).to_contain_text("送信しました。5 名に届きました。")
    taps.shot("support-7-retried")
    second = _second(drill, email_event.notice)
    again = smtp.messages(second)
    assert sorted(str(m["To"].addresses[0].addr_spec) for m in again) == sorted(ALLOWED)
    assert len(smtp.messages(email_event.notice)) == len(ALLOWED)  # the first one not resent
    rounds = [e for e in sent_events(drill, second) if e.channel == "email"]
    assert [(e.status, e.recipients, e.delivered, e.failed) for e in rounds] == [
        ("failed", 8, 0, sorted(ALLOWED, key=[r[0] for r in CUSTOMERS].index)),
        ("sent", 5, 5, []),
    ]
    capture_rounds = [e for e in sent_events(drill, second) if e.channel == "capture"]
    assert len(capture_rounds) == 1  # captured once, never again on the retry
    facilitator = open_page(
        browser, drill.server.link("/facilitator", drill.ftoken), locale="ja-JP"
    )
    timeline = facilitator.locator("#timeline")
    expect(timeline).to_contain_text(
        f"佐藤(サポート) が 調査中のお知らせ を送信({email_event.notice}): "
        "email: 送信 5 名、記録のみ 3 名、未達 0 名"
    )
    expect(timeline).to_contain_text("お客様へのお知らせ")  # the kind, not "notification"
    expect(facilitator.locator("#participants")).to_contain_text("サポート")
    publish(taps.shots)
    assert errors == []  # no script error, nothing refused by the page's own CSP


def _second(drill: LiveDrill, first: str) -> str:
    notices = [e.notice for e in drill.events() if isinstance(e, Notification) and e.notice]
    return next(n for n in notices if n != first)


def test_the_drills_end_reaches_the_page_with_a_summary(drill: LiveDrill, browser: Any) -> None:
    from kunren.record.events import DrillEnded, Milestone

    page = open_page(browser, drill.server.link("/", drill.ptoken), locale="ja-JP", viewport=PHONE)
    page.get_by_label("お名前").fill("佐藤")
    page.get_by_role("button", name="サポートとして参加").click()
    drill.clock.advance(300)
    drill.control.record(Milestone(name="detected", actor="佐藤", role="support"))
    drill.clock.advance(1500)
    drill.control.record(DrillEnded())
    banner = page.locator("#ended")
    expect(banner).to_have_text("訓練は終了しました。")
    expect(page.locator("#summary")).to_be_visible()
    expect(page.locator("#summary li")).to_have_text(["異常に気づいた: T+05:00"])
    for button in page.locator("main button").all():
        expect(button).to_be_disabled()
    expect(page.locator("#clock")).to_have_text("T+30:00")  # it stops at the end


def test_a_page_whose_server_is_gone_says_so_instead_of_pretending(
    drill: LiveDrill, browser: Any
) -> None:
    page = open_page(browser, drill.server.link("/", drill.ptoken), locale="ja-JP", viewport=PHONE)
    page.get_by_label("お名前").fill("佐藤")
    page.get_by_role("button", name="サポートとして参加").click()
    expect(page.locator("#notices")).to_be_visible()
    drill.loop.run(drill.server.stop())  # what the conductor does when the drill ends
    expect(page.locator("#ended")).to_contain_text("訓練サーバーが応答しません。")
    expect(page.locator("#n-preview")).to_be_disabled()
