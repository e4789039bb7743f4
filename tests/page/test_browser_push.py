"""In headless Chromium: what happens in the drill reaches open pages without their asking, and
a page whose stream cannot work polls instead and still shows it.

Playwright's request log is the witness: while an update arrives by push, the page makes no
``/api/state`` (or ``/api/timeline``) request at all.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from kunren.record.events import DrillEnded, Inject
from tests.page.conftest import PHONE, Browserless, LiveDrill, expect, join, open_page

pytestmark = pytest.mark.browser


def logged(page: Any) -> list[str]:
    """The paths the page requests from now on (its request log)."""
    paths: list[str] = []
    page.on("request", lambda request: paths.append(urlsplit(request.url).path))
    return paths


def test_a_mark_and_an_inject_reach_an_open_phone_page_without_a_poll(
    drill: LiveDrill, browser: Any
) -> None:
    aiko = open_page(browser, drill.server.link("/", drill.ptoken), locale="ja-JP", viewport=PHONE)
    aiko_asked = logged(aiko)
    join(aiko, "Aiko", "support")
    expect(aiko.locator("body")).to_have_attribute("data-live", "push")
    facilitator = open_page(browser, drill.server.link("/facilitator", drill.ftoken))
    facilitator_asked = logged(facilitator)
    expect(facilitator.locator("body")).to_have_attribute("data-live", "push")

    drill.clock.advance(240)
    expect(aiko.locator("#clock")).to_have_text("T+04:00")  # a virtual clock's jump, pushed
    # Aiko told the facilitator by phone; the facilitator marks it for her
    desk = Browserless(drill, drill.ftoken, "/facilitator")
    try:
        marked = desk.post(
            "/facilitator/mark", {"milestone": "detected", "role": "support", "person": "Aiko"}
        )
        assert marked.status_code == 200, marked.text
    finally:
        desk.close()
    detected = aiko.locator('form[data-milestone="detected"]')
    expect(detected.locator("[data-status]")).to_have_text("T+04:00 に記録しました")
    expect(detected.get_by_role("button")).to_be_disabled()

    # an inject written by the drill (as the conductor writes it), for support only
    drill.control.record(
        Inject(kind="inquiry", text="予約ページがエラーになると電話がありました", to=["support"])
    )
    expect(aiko.locator("#injects")).to_contain_text("予約ページがエラーになると電話がありました")
    expect(aiko.locator("#injects .kind")).to_have_text("お客様からの問い合わせ")

    # someone joining appears in the facilitator's open list of people, beside Aiko
    ben = Browserless(drill, drill.ptoken)
    try:
        assert ben.join("Ben", "sre").status_code == 200
    finally:
        ben.close()
    expect(facilitator.locator("#participants tr")).to_have_count(2)
    expect(facilitator.locator("#participants tr").last).to_contain_text("Ben")

    # a mark Aiko makes on her page appears in the facilitator's open timeline
    aiko.get_by_role("button", name="お客様に告知した").click()
    timeline = facilitator.locator("#timeline")
    expect(timeline.locator("tr").first).to_contain_text("Aiko (Support): Customers notified")

    assert facilitator_asked == []  # no poll, and the stream it opened on load was held

    drill.control.record(DrillEnded())
    expect(aiko.locator("#ended")).to_have_text("訓練は終了しました。")
    expect(aiko.locator("#summary li")).to_have_text(
        ["異常に気づいた: T+04:00", "お客様に告知した: T+04:00"]
    )
    expect(facilitator.locator("#ended")).to_have_text("The drill has ended.")
    assert "/api/state" not in aiko_asked
    assert aiko_asked.count("/api/stream") == 1  # one stream, held from the join to the end


@pytest.mark.parametrize("how", ["blocked", "error"])
def test_a_page_whose_stream_cannot_work_polls_and_still_updates(
    drill: LiveDrill, browser: Any, how: str
) -> None:
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(5000)

    def refuse(route: Any) -> None:
        if how == "blocked":  # a proxy or filter that drops it
            route.abort()
        else:  # a proxy that answers an error instead
            route.fulfill(status=502, content_type="text/plain", body="Bad gateway")

    context.route("**/api/stream*", refuse)
    page = context.new_page()
    asked = logged(page)
    page.goto(drill.server.link("/", drill.ptoken))
    join(page, "Ben", "sre")
    expect(page.locator("body")).to_have_attribute("data-live", "poll")
    drill.clock.advance(60)
    drill.control.record(Inject(kind="announcement", text="Status call in five minutes"))
    expect(page.locator("#injects")).to_contain_text("Status call in five minutes")
    expect(page.locator("#clock")).to_have_text("T+01:00")
    assert "/api/state" in asked and "/api/stream" in asked
    drill.control.record(DrillEnded())
    expect(page.locator("#ended")).to_have_text("The drill has ended.")
    context.close()


def test_without_eventsource_the_page_polls(drill: LiveDrill, browser: Any) -> None:
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(5000)
    context.add_init_script("delete window.EventSource;")  # an old browser
    page = context.new_page()
    asked = logged(page)
    page.goto(drill.server.link("/", drill.ptoken))
    join(page, "Ben", "sre")
    expect(page.locator("body")).to_have_attribute("data-live", "poll")
    drill.control.record(Inject(kind="announcement", text="Bridge call now"))
    expect(page.locator("#injects")).to_contain_text("Bridge call now")
    assert "/api/stream" not in asked
    context.close()
