"""The alert intake route: webhooks from monitoring, recorded as ``alert`` events.

Parsing the payloads is ``intake``'s job; this module checks the token (a header or Basic
auth, never a cookie: a cross-site page could otherwise post alerts with a participant's
cookie), keeps each alert's last state per identity (tools repeat themselves, and two
instances of one rule are two alerts), records each change with the source's own times and
the real lag beside arrival, and an acknowledgement by a person as that person's
``acknowledged`` milestone. An acknowledgement by nobody in particular records no milestone.

The same desk serves the participant page's ``/intake/…`` and the intake's own port
(``intake_server``); alerts that arrive there before the drill started are held and
recorded at their arrival time once it has (a negative drill time: before T0).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kunren.page import intake
from kunren.page.control import DrillControl
from kunren.page.intake_sns import SnsConfirmation, parse_sns
from kunren.page.security import SECURITY_HEADERS
from kunren.page.state import DrillView
from kunren.page.webapp import WebApp
from kunren.record.events import Alert, DrillResumed, DrillStarted, Event, Milestone
from kunren.runtime.clock import is_virtual

log = logging.getLogger("kunren.intake")

MAX_INTAKE_BODY = 4 * 1024 * 1024  # an Alertmanager group of thousands of alerts
RecordAt = Callable[[Event, float | None], Event]
SnsConfirmer = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class IntakeOptions:
    """Who may post and what is checked. Only the intake token opens the intake, on either
    port: a participant's or facilitator's page token never does, since an alert posted by
    anyone holding the join link would move the time monitoring detected the fault."""

    token: str | None = None  # the intake token (kunren.page.intake_server.intake_token)
    pagerduty_secret: str | None = None  # also require PagerDuty's signature
    sns_certificate: bytes | None = None  # SNS's signing certificate (PEM)
    sns_confirm: SnsConfirmer | None = None  # visits a SubscribeURL
    max_body: int = MAX_INTAKE_BODY
    hold_until_started: bool = False


@dataclass
class _Pending:
    item: intake.IntakeItem
    arrived: datetime
    lag: float | None


@dataclass
class AlertBook:
    """The last state of each alert, by (source, identity), folded from the record."""

    states: dict[tuple[str, str], tuple[str, str | None]] = field(default_factory=dict)
    folded: int = 0

    def fold(self, events: list[Event]) -> None:
        for event in events[self.folded :]:
            if isinstance(event, Alert):
                key = (event.source, event.identity or event.name)
                self.states[key] = (event.status, event.starts_at)
        self.folded = len(events)

    def is_news(self, item: intake.IntakeItem) -> bool:
        """A change of state; not a repeat, nor a late copy of an episode already resolved."""
        last = self.states.get((item.source, item.key))
        if last is None:
            return True
        status, starts_at = last
        if status == item.status:
            return False
        stale = status == "resolved" and item.status == "firing"
        return not (stale and item.starts_at is not None and item.starts_at == starts_at)


class AlertDesk:
    """Receives webhooks for one drill and records what changed."""

    def __init__(
        self,
        control: DrillControl,
        view: DrillView,
        options: IntakeOptions,
        record_at: RecordAt | None = None,
    ) -> None:
        self.control = control
        self.view = view
        self.options = options
        self.book = AlertBook()
        self._record_at = record_at or (lambda event, at: control.record(event))
        self._pending: list[_Pending] = []

    # ------------------------------------------------------------------ the request

    async def receive(self, request: Request) -> Response:
        source = str(request.path_params["source"])
        if source not in intake.SOURCES:
            return json_reply(
                404, {"error": "unknown alert source; use " + ", ".join(intake.SOURCES)}
            )
        if not self.options.token:
            return json_reply(
                401,
                {"error": "this drill has no intake token: give the scenario an `intake` key"},
            )
        if not self.authorized(request.headers, request.query_params.get("token")):
            return json_reply(
                401,
                {
                    "error": "the intake token is required (Authorization: Bearer, or Basic "
                    "auth); the drill's page tokens are not accepted here"
                },
            )
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        if source == "pagerduty" and self.options.pagerduty_secret:
            signature = request.headers.get("x-pagerduty-signature")
            if not intake.verify_pagerduty_signature(
                body, signature, self.options.pagerduty_secret
            ):
                return json_reply(401, {"error": "X-PagerDuty-Signature does not match"})
        try:
            parsed = (
                parse_sns(body, self.options.sns_certificate)
                if source == "sns"
                else intake.parse(source, body)
            )
        except intake.IntakeError as exc:
            return json_reply(400, {"error": str(exc)})
        if isinstance(parsed, SnsConfirmation):
            return await self._confirm(parsed)
        return json_reply(200, self.take(parsed))

    def authorized(self, headers: Mapping[str, str], query_token: str | None) -> bool:
        presented = [presented_token(headers), query_token]
        given = [t.encode("utf-8", "replace") for t in presented if t]
        if not self.options.token:
            return False
        expected = self.options.token.encode()
        return any(hmac.compare_digest(t, expected) for t in given)

    async def _body(self, request: Request) -> bytes | Response:
        limit = self.options.max_body
        too_large = json_reply(413, {"error": f"body too large (over {limit // 1024} KiB)"})
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return too_large
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return too_large
            chunks.append(chunk)
        return b"".join(chunks)

    async def _confirm(self, confirmation: SnsConfirmation) -> Response:
        if self.options.sns_confirm is None:
            return json_reply(400, {"error": "SNS subscriptions are not confirmed here"})
        try:
            await self.options.sns_confirm(confirmation.subscribe_url)
        except (OSError, ValueError) as exc:
            log.warning("SNS subscription to %s not confirmed: %s", confirmation.topic, exc)
            return json_reply(502, {"error": f"could not confirm the subscription: {exc}"})
        return json_reply(200, {"confirmed": confirmation.topic})

    # ------------------------------------------------------------------ recording

    def take(self, items: list[intake.IntakeItem]) -> dict[str, object]:
        """Record (or hold, before the drill started) the items that are news."""
        self.view.refresh()
        if self.view.ended is not None:
            return {"recorded": 0, "ignored": "the drill has ended"}
        clock = self.control.clock
        arrived = clock.wall()
        lags = [_lag(item, arrived) if not is_virtual(clock) else None for item in items]
        start = self._start()
        if start is None and self.options.hold_until_started:
            self._pending += [_Pending(i, arrived, lag) for i, lag in zip(items, lags, strict=True)]
            return {"recorded": 0, "held": len(items), "until": "the drill starts"}
        self.release()
        recorded = sum(self._record(item, lag, None) for item, lag in zip(items, lags, strict=True))
        return {"recorded": recorded, "unchanged": len(items) - recorded}

    def release(self) -> int:
        """Record the alerts held before the drill started, at their arrival drill time."""
        self.view.refresh()
        start = self._start()
        if start is None or not self._pending:
            return 0
        pending, self._pending = self._pending, []
        speed = self.control.clock.speed
        speed = speed if math.isfinite(speed) else 1.0  # virtual: drill time is wall time
        started_wall = datetime.fromisoformat(start.wall)
        recorded = 0
        for held in pending:
            at = start.at + (held.arrived - started_wall).total_seconds() * speed
            recorded += self._record(held.item, held.lag, round(at, 3))
        return recorded

    def _start(self) -> DrillStarted | DrillResumed | None:
        return next(
            (e for e in self.view.events if isinstance(e, DrillStarted | DrillResumed)), None
        )

    def _record(self, item: intake.IntakeItem, lag: float | None, at: float | None) -> bool:
        self.book.fold(self.view.events)
        if not self.book.is_news(item):
            return False
        self._record_at(alert_event(item, lag), at)
        self.view.refresh()
        self.book.fold(self.view.events)
        if item.status == "acknowledged" and item.actor:
            self._acknowledged(item, at)
        return True

    def _acknowledged(self, item: intake.IntakeItem, at: float | None) -> None:
        actor = item.actor
        assert actor is not None
        if self.view.milestone(actor, "acknowledged") is not None:
            return
        note = f"{item.source}: {item.name}"
        milestone = Milestone(
            name="acknowledged",
            actor=actor,
            role=self.view.role_of(actor),
            source="alert",
            note=note,
        )
        self._record_at(milestone, at)
        self.view.refresh()


def alert_event(item: intake.IntakeItem, lag: float | None) -> Alert:
    return Alert(
        source=item.source,
        name=item.name,
        status=item.status,
        actor=item.actor,
        identity=item.identity,
        fingerprint=item.fingerprint,
        incident=item.incident,
        labels=dict(item.labels),
        url=item.url,
        starts_at=item.starts_at,
        ends_at=item.ends_at,
        lag=lag,
    )


def _lag(item: intake.IntakeItem, arrived: datetime) -> float | None:
    if item.changed_at is None:
        return None
    return round((arrived - item.changed_at).total_seconds(), 3)


def presented_token(headers: Mapping[str, str]) -> str | None:
    """``Authorization: Bearer …``, ``X-Kunren-Token: …``, or Basic auth's password (Grafana
    and Zabbix send Basic; the user name is ignored)."""
    token = headers.get("x-kunren-token")
    if token:
        return token.strip()
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def json_reply(status: int, payload: dict[str, object]) -> Response:
    response = JSONResponse(payload, status_code=status)
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


def desk_routes(desk: AlertDesk) -> list[Route]:
    async def endpoint(request: Request) -> Response:
        try:
            return await desk.receive(request)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("error receiving an alert at %s", request.url.path)
            return json_reply(500, {"error": "internal error; see the conductor's log"})

    return [Route("/intake/{source}", endpoint, methods=["POST"], name="intake")]


def routes(web: WebApp) -> list[Route]:
    """The participant page's ``/intake/…``: the intake token only, as on its own port."""
    options = IntakeOptions(
        token=web.options.intake_token,
        pagerduty_secret=web.options.pagerduty_secret,
        sns_certificate=web.options.sns_certificate,
    )
    return desk_routes(AlertDesk(web.control, web.view, options))
