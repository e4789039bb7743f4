"""Capture the live console as a facilitator sees it, for the README's "Running a drill".

Runs the demo drill in a pseudo-terminal (a real conductor, the real demo shop), marks a
milestone from a second shell as a participant would, and renders two moments of the screen
(mid-drill, and the closing screen) to PNG through a small HTML page in headless Chromium:

    .venv/bin/python docs/capture_console.py      # writes docs/images/live-console*.png

It needs ports 18080/18081 free and about a minute (the 60-minute drill at --speed 60).
"""

from __future__ import annotations

import html
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.cli.terminal import Screen, Terminal  # noqa: E402

OUT = REPO / "docs" / "images"
PAGE = """<!doctype html><meta charset="utf-8"><style>
body {{ margin: 0; background: #1e1e1e; }}
pre {{ margin: 0; padding: 16px 20px; color: #d4d4d4; font: 14px/1.45 "Noto Sans Mono CJK JP",
  monospace; white-space: pre; }}
.prompt {{ color: #6a9955; }} .status {{ background: #264f78; color: #fff; display: block; }}
</style><pre>{body}</pre>"""


def render(screen: Screen, command: str, path: Path, last: int = 22) -> None:
    lines = [f'<span class="prompt">$ {html.escape(command)}</span>']
    lines += [html.escape(line) for line in screen.lines[-last:]]
    if screen.status:
        lines.append(f'<span class="status">{html.escape(screen.status)}</span>')
    page = PAGE.format(body="\n".join(lines))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            tab = browser.new_page(viewport={"width": 1180, "height": 200})
            tab.set_content(page)
            tab.locator("pre").screenshot(path=str(path))
        finally:
            browser.close()


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="kunren-capture-"))
    shutil.copytree(REPO / "scenarios", work / "scenarios")
    args = ["run", "scenarios/demo-shop.yaml", "--speed", "60", "--yes", "--no-web"]
    command = "kunren " + " ".join(args)
    term = Terminal(args, cwd=work)
    try:
        term.wait_for(lambda s: any("inject inquiry" in x for x in s.lines), timeout=60)
        (drill,) = [p.name for p in (work / "drills").iterdir()]
        mark = [sys.executable, "-m", "kunren", "mark", "detected", "--drill", drill]
        subprocess.run([*mark, "--actor", "alice", "--role", "support"], cwd=work, check=True)
        term.wait_for(lambda s: any("by alice" in x for x in s.lines), timeout=5)
        term.wait_for(lambda s: "detected met" in s.status, timeout=5)
        render(term.screen(), command, OUT / "live-console.png")
        term.wait_for(lambda s: any(x.startswith("  open ") for x in s.lines), timeout=120)
        render(term.screen(), command, OUT / "live-console-end.png", last=14)
        print("\n".join(term.screen().lines[-40:]))
    finally:
        term.finish()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
