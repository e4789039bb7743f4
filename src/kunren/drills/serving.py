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

from kunren.errors import KunrenError, UsageError
from kunren.page.control import LogMirror
from kunren.page.intake_server import intake_token
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
    from kunren.page.alerts import AlertDesk

TOKENS_FILE = ".web-tokens.json"


@dataclass(frozen=True)
class WebOptions:
    """``kunren run --bind/--port/--allow-remote``; ``announce`` prints the links."""

    host: str = "127.0.0.1"
    port: int = 8765
    allow_remote: bool = False
    announce: Callable[[str], Any] | None = None
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
    spec = conductor.scenario.intake
    app_options = AppOptions(
        pagerduty_secret=secret,
        intake_token=intake_token(Path(spec.token_file))[0] if spec is not None else None,
        sns_certificate=sns_certificate(conductor) if spec is not None else None,
    )
    app = build_app(control, app_options, notice_service(conductor, options))
    server = await serve(app, options.host, options.port, allow_remote=options.allow_remote)
    if options.announce is not None:
        for line in announcement(server.links(control)):
            options.announce(line)
    return server


def notice_service(conductor: ConductorLike, options: WebOptions) -> NoticeService | None:
    if conductor.scenario.notifications is None:
        return None
    from kunren.notify import NoticeService  # jinja templates, audiences: only when used

    return NoticeService(conductor.ctx, conductor.recorder, live=options.live_notices)


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


async def start_intake(conductor: ConductorLike, options: WebOptions) -> RunningIntake | None:
    """Serve the scenario's ``intake`` (if any) on its fixed port with its own token, from
    before the drill starts; alerts that arrive early are held until it has."""
    spec = conductor.scenario.intake
    if spec is None:
        return None
    from kunren.page.alerts import AlertDesk, IntakeOptions
    from kunren.page.intake_server import build_intake_app, sns_confirmer
    from kunren.page.state import DrillView

    token, where = intake_token(Path(spec.token_file))
    control = ConductorControl(conductor, drill_tokens(conductor.log.drill_dir))
    secret = options.pagerduty_secret or os.environ.get("KUNREN_PAGERDUTY_SECRET") or None
    desk_options = IntakeOptions(
        token=token,
        pagerduty_secret=secret,
        sns_certificate=sns_certificate(conductor),
        sns_confirm=sns_confirmer(),
        hold_until_started=True,
    )
    desk = AlertDesk(control, DrillView(control), desk_options, record_at=conductor.record)
    server = await serve(
        build_intake_app(desk), options.host, spec.port, allow_remote=options.allow_remote
    )
    if options.announce is not None:
        options.announce(
            f"Monitoring intake:    {server.url}/intake/alertmanager  (also grafana, pagerduty, "
            f"opsgenie, sns, generic; Authorization: Bearer <the token in {where}>)"
        )
    return RunningIntake(server, desk)


def sns_certificate(conductor: ConductorLike) -> bytes | None:
    """The PEM named by ``intake.sns_certificate`` (relative to the scenario), if any."""
    spec = conductor.scenario.intake
    if spec is None or spec.sns_certificate is None:
        return None
    path = conductor.ctx.resolve_path(spec.sns_certificate)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"intake.sns_certificate: cannot read {path}: {exc.strerror}") from exc
