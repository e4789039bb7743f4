"""Serving the participant page from a running ``Conductor`` (what ``kunren run`` uses).

The conductor calls ``start_web(self, options)`` once the drill has started and ``stop()`` on
the result at the end. ``ConductorControl`` adapts the conductor to ``DrillControl``: events
are recorded through the conductor (so its observer sees participants' clicks too) and read
back from the log file (so marks from ``kunren mark`` in another terminal show as well).

The drill's tokens are kept in ``drills/<id>/.web-tokens.json`` (mode 0600): after
``kunren resume`` the links people already have keep working.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kunren.errors import KunrenError
from kunren.page.control import LogMirror
from kunren.page.security import Tokens, new_token
from kunren.page.server import RunningServer, WebLinks, serve
from kunren.record.eventlog import EventLog
from kunren.record.events import Event, Runbook
from kunren.record.recorder import Recorder
from kunren.runtime.clock import Clock
from kunren.runtime.context import DrillContext
from kunren.scenarios.models import Scenario

if TYPE_CHECKING:
    from kunren.notify import NoticeService

TOKENS_FILE = ".web-tokens.json"


@dataclass(frozen=True)
class WebOptions:
    """``kunren run --bind/--port/--allow-remote``; ``announce`` gets the links as lines to
    print, ``on_links`` as the object (the CLI draws the join link as a QR code from it)."""

    host: str = "127.0.0.1"
    port: int = 8765
    allow_remote: bool = False
    announce: Callable[[str], Any] | None = None
    on_links: Callable[[WebLinks], Any] | None = None
    pagerduty_secret: str | None = None  # else $KUNREN_PAGERDUTY_SECRET, if set
    live_notices: bool = False  # notices from the page reach real audiences (else captured)


class ConductorLike(Protocol):
    """What this module uses of ``kunren.drills.conductor.Conductor``."""

    scenario: Scenario
    clock: Clock
    log: EventLog
    ctx: DrillContext
    recorder: Recorder

    @property
    def options(self) -> Any: ...  # ConductorOptions: .drill_id

    def record(self, event: Event, at: float | None = None) -> Event: ...

    def abort(self, reason: str) -> None: ...

    async def run_runbook(self, runbook_id: str, actor: str, role: str) -> Runbook: ...


class ConductorControl:
    """``DrillControl`` over a running conductor."""

    def __init__(self, conductor: ConductorLike, tokens: Tokens) -> None:
        self.conductor = conductor
        self.tokens = tokens
        self._mirror = LogMirror(conductor.log.path)

    @property
    def scenario(self) -> Scenario:
        return self.conductor.scenario

    @property
    def drill_id(self) -> str:
        return str(self.conductor.options.drill_id)

    @property
    def clock(self) -> Clock:
        return self.conductor.clock

    @property
    def participant_token(self) -> str:
        return self.tokens.participant

    @property
    def facilitator_token(self) -> str:
        return self.tokens.facilitator

    def record(self, event: Event) -> Event:
        return self.conductor.record(event)

    def events(self, after: int = 0) -> list[Event]:
        return self._mirror.since(after)

    async def run_runbook(self, runbook_id: str, actor: str, role: str) -> Runbook:
        return await self.conductor.run_runbook(runbook_id, actor, role)

    async def abort(self, reason: str, actor: str) -> None:
        self.conductor.abort(f"{reason} (aborted by {actor} from the facilitator view)")


def drill_tokens(drill_dir: Path) -> Tokens:
    """The drill's participant and facilitator tokens, made once and kept beside the log."""
    path = drill_dir / TOKENS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Tokens(participant=str(data["participant"]), facilitator=str(data["facilitator"]))
    except FileNotFoundError:
        pass
    except (ValueError, KeyError, TypeError) as exc:
        raise KunrenError(f"{path}: unreadable; delete it to make new drill links") from exc
    tokens = Tokens(participant=new_token(), facilitator=new_token())
    text = json.dumps({"participant": tokens.participant, "facilitator": tokens.facilitator})
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text + "\n")
    except OSError as exc:
        raise KunrenError(f"{path}: cannot write the drill's tokens: {exc.strerror}") from exc
    return tokens


def announcement(links: WebLinks) -> list[str]:
    return [
        f"Participants join at: {links.join}",
        f"Facilitator view:     {links.facilitator}",
        f"Alert intake:         {links.alertmanager}  (also /intake/pagerduty, /intake/generic)",
    ]


async def start_web(conductor: ConductorLike, options: WebOptions) -> RunningServer:
    """Serve the participant page for ``conductor``'s drill; announce the links. When the
    scenario has ``notifications``, the page also sends customer notices."""
    from kunren.page.app import AppOptions, build_app  # starlette, only when serving

    control = ConductorControl(conductor, drill_tokens(conductor.log.drill_dir))
    secret = options.pagerduty_secret or os.environ.get("KUNREN_PAGERDUTY_SECRET") or None
    app = build_app(
        control, AppOptions(pagerduty_secret=secret), notice_service(conductor, options)
    )
    server = await serve(app, options.host, options.port, allow_remote=options.allow_remote)
    links = server.links(control)
    if options.on_links is not None:
        options.on_links(links)
    if options.announce is not None:
        for line in announcement(links):
            options.announce(line)
    return server


def notice_service(conductor: ConductorLike, options: WebOptions) -> NoticeService | None:
    if conductor.scenario.notifications is None:
        return None
    from kunren.notify import NoticeService  # jinja templates, audiences: only when used

    return NoticeService(conductor.ctx, conductor.recorder, live=options.live_notices)
