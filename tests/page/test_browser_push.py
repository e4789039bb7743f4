"""In headless Chromium: what happens in the drill reaches open pages without their asking, and
a page whose stream cannot work polls instead and still shows it.

Playwright's request log is the witness: while an update arrives by push, the page makes no
``/api/state`` (or ``/api/timeline``) request at all.
"""

from __future__ import annotations

import contextlib
import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kunren.page import AppOptions
from kunren.record.events import DrillEnded, Inject
from tests.page.conftest import (
    BROWSER_TIMEOUT_MS,
    PHONE,
    Browserless,
    LiveDrill,
    expect,
    join,
    make_drill,
    open_page,
    stop_drill,
)

pytestmark = pytest.mark.browser


def logged(page: Any) -> list[str]:
    """The paths the page requests from now on (its request log)."""
    paths: list[str] = []
    page.on("request", lambda request: paths.append(urlsplit(request.url).path))
    return paths


@pytest.fixture
def patient(tmp_path: Path) -> Iterator[LiveDrill]:
    """A drill whose pages wait a minute for a stream's first message before polling: on a
    loaded machine the usual 10 s could pass, and then polling would be right, not a bug."""
    drill = make_drill(tmp_path, options=AppOptions(poll_seconds=0.2, stream_wait_seconds=60))
    try:
        yield drill
    finally:
        stop_drill(drill)


def test_a_mark_and_an_inject_reach_an_open_phone_page_without_a_poll(
    patient: LiveDrill, browser: Any
) -> None:
    drill = patient
    aiko = open_page(browser, drill.server.link("/", drill.ptoken), locale="ja-JP", viewport=PHONE)
    aiko_asked = logged(aiko)
    join(aiko, "Aiko", "support")
    expect(aiko.locator("body")).to_have_attribute("data-live", "push")
    # logged from before it loads: its stream opens while the page is parsed, and the request's
    # report may reach the test before or after the load that ends ``goto``
    facilitator_context = browser.new_context()
    facilitator_context.set_default_timeout(BROWSER_TIMEOUT_MS)
    facilitator = facilitator_context.new_page()
    facilitator_asked = logged(facilitator)
    facilitator.goto(drill.server.link("/facilitator", drill.ftoken))
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

    # no poll, and the stream it opened on load was held (one request for it, none again)
    assert [p for p in facilitator_asked if p.startswith("/api/")] == ["/api/timeline/stream"], (
        facilitator.locator("body").get_attribute("data-live")
    )

    drill.control.record(DrillEnded())
    expect(aiko.locator("#ended")).to_have_text("訓練は終了しました。")
    expect(aiko.locator("#summary li")).to_have_text(
        ["異常に気づいた: T+04:00", "お客様に告知した: T+04:00"]
    )
    expect(facilitator.locator("#ended")).to_have_text("The drill has ended.")
    assert "/api/state" not in aiko_asked, aiko_asked
    assert aiko_asked.count("/api/stream") == 1  # one stream, held from the join to the end


@pytest.mark.parametrize("how", ["blocked", "error"])
def test_a_page_whose_stream_cannot_work_polls_and_still_updates(
    drill: LiveDrill, browser: Any, how: str
) -> None:
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(BROWSER_TIMEOUT_MS)

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
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
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


class _BufferingProxy(BaseHTTPRequestHandler):
    """A proxy that passes each request on but holds the response until it is complete: fine
    for pages and polls, fatal for an event stream (nothing reaches the browser until it ends).
    """

    upstream: tuple[str, int] = ("127.0.0.1", 0)
    protocol_version = "HTTP/1.0"  # one request per connection: the simplest proxy there is

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(*self.upstream, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        with contextlib.suppress(OSError, http.client.HTTPException):
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()  # all of it, however long that takes
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        upstream.close()

    do_GET = do_POST = _forward

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[LiveDrill, str]]:
    """A drill whose page waits 1 s for a stream's first message, behind a buffering proxy."""
    drill = make_drill(tmp_path, options=AppOptions(poll_seconds=0.2, stream_wait_seconds=1.0))
    address = urlsplit(drill.url)
    handler = type("Proxy", (_BufferingProxy,), {"upstream": (address.hostname, address.port)})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    proxy.daemon_threads = True
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield drill, f"http://127.0.0.1:{proxy.server_address[1]}"
    finally:
        stop_drill(drill)  # ends the held streams, so the proxy's threads finish
        proxy.shutdown()
        proxy.server_close()
        thread.join(5)


def test_behind_a_proxy_that_buffers_the_stream_the_page_polls_instead(
    proxied: tuple[LiveDrill, str], browser: Any
) -> None:
    drill, url = proxied
    page = open_page(browser, f"{url}/?token={drill.ptoken}", locale="ja-JP", viewport=PHONE)
    asked = logged(page)
    join(page, "佐藤", "support")
    expect(page.locator("body")).to_have_attribute("data-live", "poll")  # after 1 s of silence
    drill.control.record(Inject(kind="inquiry", text="電話が鳴り止みません"))
    expect(page.locator("#injects")).to_contain_text("電話が鳴り止みません")
    assert "/api/state" in asked
