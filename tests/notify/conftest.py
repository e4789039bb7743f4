"""Fixtures for the notice tests: a drill on the virtual clock, audiences, real local servers.

Every server here is real and on loopback with a free port: aiosmtpd for SMTP, the stdlib
ThreadingHTTPServer for webhooks. Each fixture stops what it starts.
"""

from __future__ import annotations

import asyncio
import csv
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from kunren.notify import NoticeService
from kunren.record.eventlog import EventLog
from kunren.record.events import DrillStarted, Event, Notification
from kunren.record.recorder import Recorder
from kunren.runtime.clock import VirtualClock
from kunren.runtime.context import DrillContext, drill_context
from kunren.scenarios.models import Scenario

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "scenarios" / "templates"
JST = timezone(timedelta(hours=9))
START = datetime(2024, 5, 1, 14, 0, tzinfo=JST)


def shipped_templates(*states: str) -> dict[str, str]:
    """The example templates from scenarios/templates, one entry per state (both languages)."""
    names = states or ("investigating", "identified", "monitoring", "resolved")
    return {name: str(TEMPLATES / f"{name}.en.md.j2") for name in names}


@dataclass
class Drill:
    ctx: DrillContext
    log: EventLog
    clock: VirtualClock
    recorder: Recorder
    folder: Path

    def service(self, live: bool = False) -> NoticeService:
        return NoticeService(self.ctx, self.recorder, live=live)

    def events(self) -> list[Event]:
        return self.log.read()

    def notifications(self) -> list[Notification]:
        return [e for e in self.events() if isinstance(e, Notification)]


@pytest.fixture
def make_drill(tmp_path: Path) -> Callable[..., Drill]:
    counter = iter(range(1, 100))

    def make(notifications: dict[str, Any], **scenario: Any) -> Drill:
        data: dict[str, Any] = {
            "version": 1,
            "id": "notify-test",
            "title": "Notify test",
            "duration": "60m",
            "roles": {"support": {}, "commander": {}, "sre": {}},
            "notifications": notifications,
        }
        data.update(scenario)
        model = Scenario.model_validate(data)
        folder = tmp_path / f"drill-{next(counter)}"
        log = EventLog.create(folder, yaml.safe_dump(data, allow_unicode=True))
        clock = VirtualClock(start=0.0, wall_start=START)
        recorder = Recorder(log, clock)
        recorder.record(
            DrillStarted(
                drill=folder.name, scenario_id="notify-test", duration=3600, clock="virtual"
            )
        )
        ctx = drill_context(model, scenario_dir=tmp_path, drill_dir=folder, clock=clock)
        return Drill(ctx=ctx, log=log, clock=clock, recorder=recorder, folder=folder)

    return make


def write_audience(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "segment", "language"])
        writer.writerows(rows)
    return path


def customers(count: int, domain: str, start: int = 0) -> list[tuple[str, str, str, str]]:
    return [
        (
            f"customer{i:04d}@{domain}",
            f"Customer {i}",
            "premium" if i % 5 == 0 else "standard",
            "ja" if i % 2 else "en",
        )
        for i in range(start, start + count)
    ]


# ---------------------------------------------------------------- a real SMTP server


@dataclass
class Received:
    rcpt_tos: list[str]
    content: bytes


@dataclass
class SmtpCollector:
    """aiosmtpd handler: keeps every message; refuses the addresses in ``refuse``."""

    refuse: set[str] = field(default_factory=set)
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(Received(list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted"


def start_smtp(handler: SmtpCollector, port: int = 0, **kwargs: Any) -> Any:
    from aiosmtpd.controller import Controller

    class LoopbackController(Controller):
        """Listens on a free port (0): learn the port before the readiness check connects."""

        def _trigger_server(self) -> None:
            assert isinstance(self.server, asyncio.Server)  # started by the time this runs
            self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()  # type: ignore[no-untyped-call]  # unannotated upstream

    controller = LoopbackController(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., tuple[SmtpCollector, int]]]:
    started: list[Any] = []

    def start(refuse: set[str] | None = None, **kwargs: Any) -> tuple[SmtpCollector, int]:
        handler = SmtpCollector(refuse=refuse or set())
        controller = start_smtp(handler, **kwargs)
        started.append(controller)
        return handler, controller.port

    yield start
    for controller in started:
        controller.stop()


# ---------------------------------------------------------------- a real HTTP receiver


@dataclass
class Posted:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    posts: list[Posted]
    status: list[int]  # the answer to give; a list so a test can change it


@pytest.fixture
def http_receiver() -> Iterator[Receiver]:
    posts: list[Posted] = []
    status = [200]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            posts.append(Posted(self.path, dict(self.headers.items()), body))
            self.send_response(status[0])
            answer = b"ok" if status[0] < 400 else b"receiver is down"
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # a short poll interval: shutdown() waits for the next poll
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}", posts, status)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
