"""Take the support guide's phone screenshots from a real drill (docs/images/guide-*.png).

Why a script: the pictures in docs/guides/support*.md must show the page as it is, so they are
taken from a real ``kunren run`` (real clock, ``--speed``), in headless Chromium at a phone's
size, in Japanese and English, and can be taken again whenever the page changes:

    .venv/bin/python tools/guide_screenshots.py WORKSPACE

WORKSPACE is a folder made by ``kunren init``. The script writes ``scenarios/guide-support.yaml``
there (the tabletop scenario without simulated people, with an email channel to a closed port
on 127.0.0.1 and one allowlisted address, so one send really fails), runs the drill to its end,
and leaves the drill folder and its report in WORKSPACE for docs/guides/retro.md.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

REPO = Path(__file__).resolve().parents[1]
IMAGES = REPO / "docs" / "images"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE: ViewportSize = {"width": 390, "height": 844}
SPEED = "10"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def write_scenario(workspace: Path) -> Path:
    base = yaml.safe_load((workspace / "scenarios/tabletop-notify.yaml").read_text("utf-8"))
    base["id"] = "guide-support"
    base.pop("simulate")
    base["roles"]["support"]["tools"].append(
        {"name": "Customer mail tool", "url": "https://mail.example.com"}
    )
    notices = base["notifications"]
    smtp = {"from": "drill@example.com", "host": "127.0.0.1", "port": closed_port()}
    notices["channels"] = ["capture", {"email": {**smtp, "timeout": "5s"}}]
    notices["drill_allowlist"] = ["sato.hanako@example.jp"]
    path = workspace / "scenarios/guide-support.yaml"
    path.write_text(yaml.safe_dump(base, allow_unicode=True, sort_keys=False), "utf-8")
    return path


class Drill:
    """``kunren run`` in a child process; its output lines collected as they come."""

    def __init__(self, workspace: Path, scenario: Path) -> None:
        command = [sys.executable, "-m", "kunren", "run", str(scenario), "--speed", SPEED]
        command += ["--port", "0", "--yes"]
        self.proc = subprocess.Popen(
            command, cwd=workspace, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def link(self, label: str, timeout: float = 60.0) -> str:
        done = threading.Event()
        for _ in range(int(timeout * 10)):
            for line in list(self.lines):
                if line.startswith(label):
                    return re.split(r"\s+", line.split(":", 1)[1].strip())[0]
            done.wait(0.1)
        raise SystemExit(f"no {label!r} line; output:\n" + "\n".join(self.lines))


def shoot(page: Any, name: str, locator: Any = None) -> None:
    """The whole phone screen, or one part of the page (with the sticky header unstuck, so
    it does not cover the part being shot)."""
    path = IMAGES / f"guide-{name}.png"
    if locator is not None:
        page.evaluate(
            "document.querySelectorAll('header').forEach(h => h.style.position = 'static')"
        )
    (locator or page).screenshot(path=str(path))
    print(f"wrote {path.relative_to(REPO)}")


def wait_for_clock(page: Any, minutes: int) -> None:
    """Poll the page's drill clock (T+MM:SS) until it shows ``minutes`` or more."""
    for _ in range(3000):
        text = page.locator("#clock").inner_text()
        parts = [int(part) for part in re.findall(r"\d+", text)]
        if len(parts) >= 2 and (parts[-3] * 60 if len(parts) == 3 else 0) + parts[-2] >= minutes:
            return
        page.wait_for_timeout(100)
    raise SystemExit(f"the drill clock never reached {minutes} min")


def run(workspace: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    drill = Drill(workspace, write_scenario(workspace))
    try:
        join = drill.link("Participants join at:")
        facilitator_link = drill.link("Facilitator view:")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            phones = {}
            for lang, locale, name in (("ja", "ja-JP", "佐藤"), ("en", "en-US", "Ben")):
                ctx = browser.new_context(locale=locale, viewport=PHONE, device_scale_factor=1)
                ctx.set_default_timeout(15000)
                page = ctx.new_page()
                page.goto(join)
                page.fill("#name", name)
                shoot(page, f"join.{lang}")
                page.select_option("#role", "support")
                page.click("#join")
                phones[lang] = page
            for lang, page in phones.items():
                wait_for_clock(page, 3)
                page.reload()
                shoot(page, f"page.{lang}")
                detected = page.locator('form[data-milestone="detected"]')
                detected.locator("input[name=note]").fill(
                    "予約できないとお問い合わせ" if lang == "ja" else "customer cannot book"
                )
                detected.get_by_role("button").click()
                expect(detected.locator("[data-status]")).not_to_be_empty()
                shoot(page, f"milestone.{lang}", page.locator("section", has=detected))
                tools = page.locator("form.tool")
                tools.nth(0).locator("button[value=yes]").click()
                tools.nth(1).locator("input[name=note]").fill(
                    "アカウントがない" if lang == "ja" else "no account yet"
                )
                tools.nth(1).locator("button[value=no]").click()
                expect(tools.nth(1).locator("[data-status]")).not_to_be_empty()
                shoot(page, f"readiness.{lang}", page.locator("section", has=tools.nth(0)))
            for lang, page in phones.items():
                form = page.locator("#notice-form")
                form.locator("select[name=lang]").select_option(lang)
                shoot(page, f"notice-form.{lang}", form)
                form.get_by_role("button", name=re.compile("Preview|プレビュー")).click()
                expect(form.locator("[data-subject]")).not_to_be_empty()
                shoot(page, f"notice-preview.{lang}", form.locator("#notice-preview"))
            aiko = phones["ja"]
            aiko.locator("#notice-form").get_by_role("button", name=re.compile("承認")).click()
            aiko.wait_for_load_state()
            shoot(aiko, "notice-requested.ja", aiko.locator(".flash"))

            ctx = browser.new_context(locale="ja-JP", viewport=PHONE)
            ctx.set_default_timeout(15000)
            carol = ctx.new_page()
            carol.goto(join)
            carol.fill("#name", "Carol")
            carol.select_option("#role", "commander")
            carol.click("#join")
            pending = carol.locator("#notices .notice").first
            expect(pending).to_be_visible()
            shoot(carol, "approve.ja", pending)
            pending.get_by_role("button", name="承認する").click()
            carol.wait_for_load_state()

            aiko.reload()
            ready = aiko.locator("#notices form.notice").first
            expect(ready).to_be_visible()
            shoot(aiko, "ready.ja", ready)
            ready.get_by_role("button").click()
            aiko.wait_for_load_state()
            expect(aiko.locator(".flash")).to_be_visible()
            shoot(aiko, "sent.ja", aiko.locator(".flash"))
            shoot(aiko, "sent-list.ja", aiko.locator("#notices ul").last)

            ben = phones["en"]
            form = ben.locator("#notice-form")
            form.locator("select[name=lang]").select_option("en")
            form.locator("select[name=template]").select_option("identified")
            form.get_by_role("button", name=re.compile("approval")).click()
            ben.wait_for_load_state()
            shoot(ben, "notice-requested.en", ben.locator(".flash"))
            ctx = browser.new_context(locale="en-US", viewport=PHONE)
            ctx.set_default_timeout(15000)
            dana = ctx.new_page()
            dana.goto(join)
            dana.fill("#name", "Dana")
            dana.select_option("#role", "commander")
            dana.click("#join")
            pending = dana.locator("#notices .notice").first
            expect(pending).to_be_visible()
            shoot(dana, "approve.en", pending)
            pending.get_by_role("button", name="Approve").click()
            dana.wait_for_load_state()
            ben.reload()
            ready = ben.locator("#notices form.notice").first
            expect(ready).to_be_visible()
            shoot(ben, "ready.en", ready)
            ready.get_by_role("button").click()
            ben.wait_for_load_state()
            expect(ben.locator(".flash")).to_be_visible()
            shoot(ben, "sent.en", ben.locator(".flash"))
            shoot(ben, "sent-list.en", ben.locator("#notices ul").last)

            fac = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
            fac.goto(facilitator_link)
            fac.wait_for_timeout(500)
            shoot(fac, "facilitator.en")

            wait_for_clock(ben, 25)
            ben.reload()
            update = ben.locator('form[data-milestone="update_sent"]')
            update.get_by_role("button").click()
            expect(update.locator("[data-status]")).not_to_be_empty()
            wait_for_clock(carol, 37)
            carol.reload()
            resolved = carol.locator('form[data-milestone="resolved"]')
            resolved.get_by_role("button").click()
            expect(resolved.locator("[data-status]")).not_to_be_empty()
            browser.close()
        drill.proc.wait(timeout=600)
    finally:
        if drill.proc.poll() is None:
            drill.proc.terminate()
            drill.proc.wait(timeout=120)
        drill.reader.join(5)
    print("\n".join(drill.lines[-6:]))


def shoot_report(report: Path, lang: str = "en") -> None:
    """The retro guide's pictures: parts of a real HTML report (written with ``--lang LANG``),
    at a laptop's width."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.goto(report.resolve().as_uri())
        shoot(page, f"report-header.{lang}", page.locator("header.top"))
        for part in ("summary", "trend", "scenario", "timeline"):
            shoot(page, f"report-{part}.{lang}", page.locator(f"section#{part}"))
        browser.close()


if __name__ == "__main__":
    if sys.argv[1] == "--report":
        shoot_report(Path(sys.argv[2]), *sys.argv[3:4])
    else:
        run(Path(sys.argv[1]).resolve())
