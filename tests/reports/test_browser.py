"""The HTML report in a real browser: it renders, draws its SVG, logs no errors, and prints."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kunren.reports import render, write_report
from tests.fixtures.timelines.records import DRILLS, Q3
from tests.reports.notices import quality_card

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_html_report_renders_in_chromium_without_console_errors(
    browser: Browser, tmp_path: Path, lang: str
) -> None:
    report = write_report([DRILLS / Q3], "html", tmp_path / "report.html", lang=lang)
    shot = tmp_path / f"report-{lang}.png"
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on("requestfailed", lambda r: problems.append(f"request {r.url}"))
        page.goto(report.resolve().as_uri())
        page.screenshot(path=str(shot), full_page=True)
        swimlanes = page.locator("svg.swimlanes").bounding_box()
        chart = page.locator("svg.trendchart").bounding_box()
        sections = page.locator("main > section h2").all_inner_texts()
        title = page.title()
        page.emulate_media(media="print")
        pdf = page.pdf(format="A4")
    finally:
        page.close()
    assert problems == []
    assert shot.stat().st_size > 10_000
    assert swimlanes is not None and swimlanes["width"] > 800 and swimlanes["height"] > 150
    assert chart is not None and chart["height"] > 150
    assert len(sections) == 12
    assert Q3 in title
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_report_reads_on_a_phone_without_sideways_scrolling(
    browser: Browser, tmp_path: Path, lang: str
) -> None:
    report = write_report([DRILLS / Q3], "html", tmp_path / "phone.html", lang=lang)
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.goto(report.resolve().as_uri())
        page_width = page.evaluate("document.documentElement.scrollWidth")
        facts = page.locator("dl.facts").bounding_box()
        widest_fact = page.evaluate(
            "Math.max(...[...document.querySelectorAll('dl.facts dd, dl.facts dt')]"
            ".map(e => e.getBoundingClientRect().right))"
        )
        swimlanes = page.locator("svg.swimlanes").bounding_box()
        cards = page.locator(".cards .card").first.bounding_box()
    finally:
        page.close()
    assert page_width <= 390
    assert facts is not None and facts["x"] >= 0 and widest_fact <= 390
    # the chart keeps a readable size and scrolls in its own box instead of shrinking
    assert swimlanes is not None and swimlanes["width"] >= 700
    assert cards is not None and cards["width"] >= 300


KEPT = {
    "en": ["on time", "8 min late", "10+ min late (no update before the drill ended)"],
    "ja": ["予定どおり", "8分遅れ", "10分以上遅れ（訓練終了までに次のお知らせなし）"],
}


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_notice_quality_and_cadence_read_on_a_phone(
    browser: Browser, tmp_path: Path, lang: str
) -> None:
    report = tmp_path / f"quality-{lang}.html"
    report.write_text(render(quality_card(), "html", lang), encoding="utf-8")
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(report.resolve().as_uri())
        page_width = page.evaluate("document.documentElement.scrollWidth")
        table = page.locator("#notices table.quality")
        table.scroll_into_view_if_needed()
        visible = table.is_visible()
        rows = table.locator("tr").count()
        kept = table.locator("td .tag").all_inner_texts()
        lacking = page.locator("#notices td.lacking")
        lacking_color = lacking.evaluate("cell => getComputedStyle(cell).color")
        censored_style = table.locator(".tag.censored").evaluate(
            "tag => getComputedStyle(tag).fontStyle"
        )
        page.screenshot(path=str(tmp_path / f"quality-{lang}.png"), full_page=True)
    finally:
        page.close()
    assert problems == []
    assert page_width <= 390  # the wide table scrolls in its own box, not the page
    assert visible and rows == 4
    assert kept == KEPT[lang]
    assert lacking_color == "rgb(192, 57, 43)"  # --missed: the notice that lacked items
    assert censored_style == "italic"  # a lower bound, drawn like every censored number
