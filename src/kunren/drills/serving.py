"""Serving the participant page from a running drill (what ``kunren run`` uses).

The page package defines what it needs from whoever runs the drill (``kunren.page.DrillControl``)
and how it is served (``WebOptions``, ``RunningServer``); this module connects the conductor
to it. The conductor hands over a ``ServedDrill``: the few things the page may use (the
scenario, the clock, recording, runbooks, abort, notices), not the conductor itself, so the
page can reach nothing else of a live drill. ``ConductorControl`` adapts that to
``DrillControl``: events are recorded through the conductor (so its observer sees
participants' clicks too) and read back from the log file (so marks from ``kunren mark`` in
another terminal show as well).

The drill's tokens are kept in ``drills/<id>/.web-tokens.json`` (mode 0600): after
``kunren resume`` the links people already have keep working.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kunren.errors import KunrenError
from kunren.page.control import LogMirror
from kunren.page.options import AppOptions, WebOptions
from kunren.page.security import Tokens, new_token
from kunren.page.server import RunningServer, WebLinks, serve
from kunren.record.events import Event, Runbook
from kunren.runtime.clock import Clock
from kunren.scenarios.models import Scenario

if TYPE_CHECKING:
    from kunren.notify import NoticeService

__all__ = [
    "TOKENS_FILE",
    "ConductorControl",
    "ServedDrill",
    "WebOptions",
    "announcement",
    "drill_tokens",
    "start_web",
]

TOKENS_FILE = ".web-tokens.json"


@dataclass(frozen=True)
class ServedDrill:
    """What a running drill gives the page it serves, and nothing more."""

    scenario: Scenario
    drill_id: str
    drill_dir: Path  # its record is ``events.jsonl`` here; its tokens are kept beside it
    clock: Clock
    record: Callable[[Event], Event]  # stamped with the drill clock, fsync'd, observed
    run_runbook: Callable[[str, str, str], Awaitable[Runbook]]  # (runbook id, actor, role)
    abort: Callable[[str], None]  # stop the drill for this reason: revert, record, end
    notices: NoticeService | None = None  # when the scenario has ``notifications``


class ConductorControl:
    """``DrillControl`` over a running drill."""

    def __init__(self, drill: ServedDrill, tokens: Tokens) -> None:
        self.drill = drill
        self.tokens = tokens
        self._mirror = LogMirror(drill.drill_dir / "events.jsonl")

    @property
    def scenario(self) -> Scenario:
        return self.drill.scenario

    @property
    def drill_id(self) -> str:
        return self.drill.drill_id

    @property
    def clock(self) -> Clock:
        return self.drill.clock

    @property
    def participant_token(self) -> str:
        return self.tokens.participant

    @property
    def facilitator_token(self) -> str:
        return self.tokens.facilitator

    def record(self, event: Event) -> Event:
        return self.drill.record(event)

    def events(self, after: int = 0) -> list[Event]:
        return self._mirror.since(after)

    async def run_runbook(self, runbook_id: str, actor: str, role: str) -> Runbook:
        return await self.drill.run_runbook(runbook_id, actor, role)

    async def abort(self, reason: str, actor: str) -> None:
        self.drill.abort(f"{reason} (aborted by {actor} from the facilitator view)")


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


async def start_web(drill: ServedDrill, options: WebOptions) -> RunningServer:
    """Serve the participant page for ``drill``; announce the links. With ``drill.notices``,
    the page also sends customer notices."""
    from kunren.page.app import build_app  # starlette, only when serving

    control = ConductorControl(drill, drill_tokens(drill.drill_dir))
    secret = options.pagerduty_secret or os.environ.get("KUNREN_PAGERDUTY_SECRET") or None
    app = build_app(control, AppOptions(pagerduty_secret=secret), drill.notices)
    server = await serve(app, options.host, options.port, allow_remote=options.allow_remote)
    if options.announce is not None:
        for line in announcement(server.links(control)):
            options.announce(line)
    return server
