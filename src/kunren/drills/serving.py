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
from typing import TYPE_CHECKING, Protocol

from kunren.errors import KunrenError, UsageError
from kunren.page.intake_server import existing_intake_token, intake_token
from kunren.page.options import AppOptions, WebLinks, WebOptions
from kunren.page.security import Tokens, new_token
from kunren.page.server import RunningServer, serve
from kunren.record.events import Event, Runbook
from kunren.record.mirror import LogMirror
from kunren.runtime.clock import Clock
from kunren.scenarios.models import Scenario

if TYPE_CHECKING:
    from kunren.notify import NoticeService
    from kunren.page.alerts import AlertDesk

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


class RecordEvent(Protocol):
    def __call__(self, event: Event, at: float | None = None, /) -> Event: ...


@dataclass(frozen=True)
class ServedDrill:
    """What a running drill gives the page it serves, and nothing more."""

    scenario: Scenario
    drill_id: str
    drill_dir: Path  # its record is ``events.jsonl`` here; its tokens are kept beside it
    scenario_dir: Path  # what the scenario's relative paths are relative to
    clock: Clock
    record: RecordEvent  # stamped with the drill clock (or at ``at``), fsync'd, observed
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
        f"Alert intake:         {links.alertmanager}  (also /intake/pagerduty, /intake/generic;"
        " monitoring's own credential only)",
    ]


async def start_web(drill: ServedDrill, options: WebOptions) -> RunningServer:
    """Serve the participant page for ``drill``; announce the links. With ``drill.notices``,
    the page also sends customer notices."""
    from kunren.page.app import build_app  # starlette, only when serving

    control = ConductorControl(drill, drill_tokens(drill.drill_dir))
    secret = options.pagerduty_secret or os.environ.get("KUNREN_PAGERDUTY_SECRET") or None
    spec = drill.scenario.intake
    app_options = AppOptions(
        pagerduty_secret=secret,
        intake_token=(
            intake_token(Path(spec.token_file))[0] if spec is not None else existing_intake_token()
        ),
        sns_certificate=sns_certificate(drill) if spec is not None else None,
    )
    app = build_app(control, app_options, drill.notices)
    server = await serve(app, options.host, options.port, allow_remote=options.allow_remote)
    links = server.links(control)
    if options.on_links is not None:
        options.on_links(links)
    elif options.announce is not None:
        for line in announcement(links):
            options.announce(line)
    return server


class RunningIntake:
    """The alert intake on its own port: ``release()`` once the drill started, ``stop()``."""

    def __init__(self, server: RunningServer, desk: AlertDesk) -> None:
        self.server = server
        self.desk = desk
        self.url = server.url

    def release(self) -> int:
        return self.desk.release()

    async def stop(self) -> None:
        await self.server.stop()


async def start_intake(drill: ServedDrill, options: WebOptions) -> RunningIntake | None:
    """Serve the scenario's ``intake`` (if any) on its fixed port with its own token, from
    before the drill starts; alerts that arrive early are held until it has."""
    spec = drill.scenario.intake
    if spec is None:
        return None
    from kunren.page.alerts import AlertDesk, IntakeOptions
    from kunren.page.intake_server import build_intake_app, sns_confirmer
    from kunren.page.state import DrillView

    token, where = intake_token(Path(spec.token_file))
    control = ConductorControl(drill, drill_tokens(drill.drill_dir))
    secret = options.pagerduty_secret or os.environ.get("KUNREN_PAGERDUTY_SECRET") or None
    desk_options = IntakeOptions(
        token=token,
        pagerduty_secret=secret,
        sns_certificate=sns_certificate(drill),
        sns_confirm=sns_confirmer(),
        hold_until_started=True,
    )
    desk = AlertDesk(control, DrillView(control), desk_options, record_at=drill.record)
    server = await serve(
        build_intake_app(desk), options.host, spec.port, allow_remote=options.allow_remote
    )
    if options.announce is not None:
        options.announce(
            f"Monitoring intake:    {server.url}/intake/alertmanager  (also grafana, pagerduty, "
            f"opsgenie, sns, generic; Authorization: Bearer <the token in {where}>)"
        )
    return RunningIntake(server, desk)


def sns_certificate(drill: ServedDrill) -> bytes | None:
    """The PEM named by ``intake.sns_certificate`` (relative to the scenario), if any."""
    spec = drill.scenario.intake
    if spec is None or spec.sns_certificate is None:
        return None
    path = Path(spec.sns_certificate)
    if not path.is_absolute():
        path = drill.scenario_dir / path
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"intake.sns_certificate: cannot read {path}: {exc.strerror}") from exc
