"""End to end in headless Chromium: people join, click, run a runbook; the log and the
facilitator view show it; markup stays text; a page from another origin cannot post."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kunren.record.events import Inject
from kunren.scorers.score import score
from tests.page.conftest import PHONE, LiveDrill, expect, join, open_page

pytestmark = pytest.mark.browser


def test_two_participants_click_and_the_facilitator_sees_it(
    drill: LiveDrill, browser: Any, tmp_path: Path
) -> None:
    drill.clock.advance(120)
    aiko = open_page(browser, drill.server.link("/", drill.ptoken), locale="ja-JP", viewport=PHONE)
    expect(aiko.get_by_role("heading", name="訓練に参加")).to_be_visible()
    join(aiko, "Aiko", "support")
    expect(aiko.get_by_role("button", name="異常に気づいた")).to_be_visible()

    status_page = aiko.locator('form[data-tool="Status page admin"]')
    status_page.get_by_role("button", name="開けた").click()
    expect(status_page.locator("[data-status]")).to_have_text(
        "記録しました: Status page admin を開けます"
    )
    mail = aiko.locator('form[data-tool="Customer mail tool"]')
    mail.locator("input[name=note]").fill("no account yet")
    mail.get_by_role("button", name="開けない").click()
    expect(mail.locator("[data-status]")).to_have_text(
        "記録しました: Customer mail tool を開けません"
    )

    drill.clock.advance(180)  # T+05:00
    detected = aiko.locator('form[data-milestone="detected"]')
    detected.locator("input[name=note]").fill("booking page shows an error")
    detected.get_by_role("button").click()
    expect(detected.locator("[data-status]")).to_have_text("T+05:00 に記録しました")
    expect(detected.get_by_role("button")).to_be_disabled()
    expect(aiko.locator("#clock")).to_have_text("T+05:00")

    ben = open_page(browser, drill.server.link("/", drill.ptoken), locale="en-US")
    join(ben, "Ben", "sre")
    drill.clock.advance(120)  # T+07:00
    ben.get_by_text("Stop the stuck worker", exact=True).click()
    runbook = ben.locator('details[data-runbook="stop-worker"]')
    expect(runbook).to_contain_text("its supervisor starts another")
    expect(runbook.get_by_role("link", name="Read the manual")).to_have_attribute(
        "href", "https://wiki.example.com/runbooks/stuck-worker"
    )
    runbook.get_by_role("button", name="Yes, run it").click()
    expect(runbook.locator("[data-status]")).to_contain_text("Done: killed pid")
    assert drill.worker.wait(5) == -9

    ben.get_by_role("button", name="Triaged").dblclick()
    expect(ben.locator('form[data-milestone="triaged"] [data-status]')).to_have_text(
        "Recorded at T+07:00"
    )

    events = drill.wait_for(lambda evs: any(e.type == "runbook" for e in evs))
    joined = [(e.actor, e.role, e.at) for e in events if e.type == "participant.joined"]
    assert joined == [("Aiko", "support", 120.0), ("Ben", "sre", 300.0)]
    milestones = [(e.name, e.actor, e.role, e.at, e.note) for e in events if e.type == "milestone"]
    assert milestones == [
        ("detected", "Aiko", "support", 300.0, "booking page shows an error"),
        ("triaged", "Ben", "sre", 420.0, ""),  # a double click records once
    ]
    runbooks = [(e.runbook, e.actor, e.role, e.result, e.at) for e in events if e.type == "runbook"]
    assert runbooks == [("stop-worker", "Ben", "sre", "ok", 420.0)]
    readiness = [(e.actor, e.tool, e.ok) for e in events if e.type == "readiness"]
    assert readiness == [("Aiko", "Status page admin", True), ("Aiko", "Customer mail tool", False)]

    card = score(drill.control.scenario, events)  # the scorer counts the clicks
    assert card.milestones["detected"].per_person["Aiko"].seconds == 300.0
    assert card.milestones["triaged"].per_role["sre"].seconds == 420.0
    assert card.team_health.people == {"support": ["Aiko"], "sre": ["Ben"]}
    lacking = [(r.actor, r.tool) for r in card.readiness if not r.ok]
    assert lacking == [("Aiko", "Customer mail tool")]

    facilitator = open_page(browser, drill.server.link("/facilitator", drill.ftoken))
    people = facilitator.locator("#participants")
    expect(people).to_contain_text("cannot open: Customer mail tool")
    expect(people.locator("tr")).to_have_count(2)
    timeline = facilitator.locator("#timeline")
    expect(timeline.locator('tr[data-type="milestone"]')).to_have_count(2)
    expect(timeline).to_contain_text("Aiko (Support): I noticed a problem (on the page)")
    expect(timeline).to_contain_text("Ben (SRE) ran stop-worker → done")

    drill.clock.advance(60)
    ben.get_by_role("button", name="Mitigated").click()  # arrives in the open timeline by polling
    expect(timeline.locator('tr[data-type="milestone"]')).to_have_count(3)
    expect(timeline.locator("tr").first).to_contain_text("Ben (SRE): Mitigated (on the page)")

    shot = tmp_path / "participant.png"
    aiko.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("KUNREN_SCREENSHOTS"):
        shutil.copy(shot, Path(os.environ["KUNREN_SCREENSHOTS"]) / "participant.png")
        facilitator.screenshot(path=str(Path(os.environ["KUNREN_SCREENSHOTS"]) / "facilitator.png"))


def test_markup_in_notes_and_injects_stays_text_in_the_browser(
    drill: LiveDrill, browser: Any
) -> None:
    ben = open_page(browser, drill.server.link("/", drill.ptoken))
    join(ben, "Ben", "sre")
    drill.control.record(
        Inject(kind="inquiry", text="<script>window.__pwned = 'inject'</script>", to=["sre"])
    )
    expect(ben.locator("#injects")).to_contain_text("<script>window.__pwned = 'inject'</script>")
    payload = "<img src=x onerror=\"window.__pwned='note'\">"
    detected = ben.locator('form[data-milestone="detected"]')
    detected.locator("input[name=note]").fill(payload)
    detected.get_by_role("button").click()
    expect(detected.locator("[data-status]")).to_contain_text("Recorded at")

    facilitator = open_page(browser, drill.server.link("/facilitator", drill.ftoken))
    expect(facilitator.locator("#timeline")).to_contain_text(payload)
    ben.reload()
    expect(ben.locator("#injects")).to_contain_text("<script>")
    for page in (ben, facilitator):
        assert page.evaluate("window.__pwned") is None
        assert page.locator("#timeline img, #injects script").count() == 0


class _Attacker(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        page = (
            f'<form id="f" method="post" action="{self.target}/milestone">'
            '<input name="milestone" value="detected"><input name="csrf" value="guess"></form>'
            "<script>document.getElementById('f').submit()</script>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def attacker(drill: LiveDrill) -> Iterator[str]:
    handler = type("Attacker", (_Attacker,), {"target": drill.url})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_form_on_another_origin_cannot_post_with_the_participants_cookie(
    drill: LiveDrill, browser: Any, attacker: str
) -> None:
    ben = open_page(browser, drill.server.link("/", drill.ptoken))
    join(ben, "Ben", "sre")
    ben.goto(attacker)  # same host, another port: the browser sends the cookie along
    expect(ben.locator("#message")).to_have_text(
        "Refused: the request did not come from this drill's page."
    )
    assert drill.of_type("milestone") == []
    ben.goto(drill.url + "/")
    ben.locator('form[data-milestone="detected"]').get_by_role("button").click()
    drill.wait_for(lambda evs: any(e.type == "milestone" for e in evs))
