"""A live drill for the web tests: a real event log, a virtual clock, the app served by uvicorn
in its own asyncio loop (as the conductor would), and a real child process for the runbook."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from kunren.page import (
    AppOptions,
    LocalDrillControl,
    RunbookOutcome,
    RunningServer,
    create_app,
    serve,
)
from kunren.record.eventlog import EventLog
from kunren.record.events import DrillStarted, Event
from kunren.record.stream import read_record
from kunren.runtime.clock import VirtualClock
from kunren.scenarios.models import RunbookSpec, Scenario

HTTP_TIMEOUT_S = 20.0  # a request's deadline (see BROWSER_TIMEOUT_MS)

T = TypeVar("T")

SCENARIO: dict[str, Any] = {
    "version": 1,
    "id": "shop-outage",
    "title": "Shop outage drill",
    "duration": "60m",
    "roles": {
        "sre": {"min": 1},
        "support": {
            "min": 1,
            "tools": [
                {"name": "Status page admin", "url": "https://status.example.com/admin"},
                {"name": "Customer mail tool", "url": "https://mail.example.com"},
            ],
        },
    },
    "runbooks": [
        {
            "id": "stop-worker",
            "title": "Stop the stuck worker",
            "kind": "process.kill",
            "target": "worker",
            "roles": ["sre", "support"],
            "description": "Sends SIGKILL to the stuck worker; its supervisor starts another.",
            "doc": "https://wiki.example.com/runbooks/stuck-worker",
        },
        {
            "id": "restart-shop",
            "title": "Restart the shop",
            "kind": "process.restart",
            "roles": ["sre"],
        },
    ],
}


class KillWorker:
    """The runbook's action for the tests: SIGKILL a real child process and wait for it."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.calls: list[str] = []

    async def __call__(self, spec: RunbookSpec) -> RunbookOutcome:
        self.calls.append(spec.id)
        if spec.kind != "process.kill":
            return RunbookOutcome("refused", f"{spec.kind} is not wired in this test")
        os.kill(self.process.pid, signal.SIGKILL)
        code = await asyncio.to_thread(self.process.wait, 5)
        return RunbookOutcome("ok", f"killed pid {self.process.pid} (exit {code})")


def start_worker() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


class LoopThread:
    """An asyncio loop in a thread: the conductor's loop, seen from the test's thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@dataclass
class LiveDrill:
    control: LocalDrillControl
    clock: VirtualClock
    log: EventLog
    server: RunningServer
    worker: subprocess.Popen[bytes]
    runner: KillWorker
    loop: LoopThread
    app: Any = None  # the served app (its ``state.web``: what a test may look into)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def ptoken(self) -> str:
        return self.control.participant_token

    @property
    def ftoken(self) -> str:
        return self.control.facilitator_token

    def events(self) -> list[Event]:
        return read_record(self.log.path).events

    def of_type(self, kind: str) -> list[Any]:
        return [e for e in self.events() if e.type == kind]

    def wait_for(
        self, predicate: Callable[[list[Event]], bool], timeout: float = 5.0
    ) -> list[Event]:
        deadline = time.monotonic() + timeout
        while True:
            events = self.events()
            if predicate(events):
                return events
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met; events: {[e.type for e in events]}")
            time.sleep(0.02)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=HTTP_TIMEOUT_S, follow_redirects=False)


Notices = Callable[[LocalDrillControl], Any]


def make_drill(
    tmp_path: Path,
    scenario: dict[str, Any] | Scenario | None = None,
    options: AppOptions | None = None,
    control_cls: type[LocalDrillControl] = LocalDrillControl,
    notices: Notices | None = None,
) -> LiveDrill:
    if isinstance(scenario, Scenario):
        loaded = scenario
    else:
        loaded = Scenario.model_validate(scenario or SCENARIO)
    log = EventLog.create(tmp_path / "drills" / "shop-outage-1", "version: 1\n")
    clock = VirtualClock()
    worker = start_worker()
    runner = KillWorker(worker)
    control = control_cls(
        loaded,
        log,
        clock,
        participant_token="participant-token-" + "p" * 20,
        facilitator_token="facilitator-token-" + "f" * 20,
        runbooks=runner,
    )
    control.record(
        DrillStarted(drill="shop-outage-1", scenario_id=loaded.id, duration=3600, clock="virtual")
    )
    loop = LoopThread()
    service = notices(control) if notices is not None else None
    app = create_app(control, options or AppOptions(poll_seconds=0.2), service)
    server = loop.run(serve(app, "127.0.0.1", 0))
    return LiveDrill(control, clock, log, server, worker, runner, loop, app)


def stop_drill(drill: LiveDrill) -> None:
    try:
        drill.loop.run(drill.server.stop())
    finally:
        drill.loop.close()
        if drill.worker.poll() is None:
            drill.worker.kill()
        drill.worker.wait(5)


@pytest.fixture
def drill(tmp_path: Path) -> Iterator[LiveDrill]:
    live = make_drill(tmp_path)
    try:
        yield live
    finally:
        stop_drill(live)


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Browserless:
    """A participant's or facilitator's session driven over HTTP (the non-browser tests)."""

    def __init__(self, drill: LiveDrill, token: str, path: str = "/") -> None:
        self.http = drill.client()
        first = self.http.get(path, params={"token": token})
        assert first.status_code == 303, first.text
        page = self.http.get(path)
        assert page.status_code == 200, page.text
        self.csrf = csrf_of(page.text)

    def post(self, path: str, data: dict[str, str], **headers: str) -> httpx.Response:
        headers.setdefault("Accept", "application/json")
        return self.http.post(path, data={"csrf": self.csrf, **data}, headers=headers)

    def join(self, name: str, role: str) -> httpx.Response:
        return self.post("/join", {"name": name, "role": role})

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def session_for(drill: LiveDrill) -> Iterator[Callable[..., Browserless]]:
    opened: list[Browserless] = []

    def open_session(token: str | None = None, path: str = "/") -> Browserless:
        session = Browserless(drill, token or drill.ptoken, path)
        opened.append(session)
        return session

    yield open_session
    for session in opened:
        session.close()


# ---------------------------------------------------------------------- the browser

CHROMIUM = "/usr/bin/chromium"
# How long a browser action or a request may take before the test fails. A deadline, not a
# wait: a passing test never waits it out, and `make test` runs on every core at once.
BROWSER_TIMEOUT_MS = 20_000
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 390, "height": 844}


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=BROWSER_TIMEOUT_MS)
    return playwright_expect(locator)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser). Module-scoped:
    Playwright's sync API holds an event loop in this thread while it runs, which would
    break later tests that call asyncio.run()."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser: Any, url: str, **context: Any) -> Any:
    ctx = browser.new_context(**context)
    ctx.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = ctx.new_page()
    page.goto(url)
    return page


def join(page: Any, name: str, role: str) -> None:
    """Type the name, press the role's button: two inputs from the join link."""
    page.fill("#name", name)
    page.click(f'#roles button[value="{role}"]')
