"""The alert intake route: webhooks from monitoring, recorded as ``alert`` events.

Parsing the payloads is ``intake``'s job; this module checks the token (query or header, never
a cookie: a cross-site page could otherwise post alerts with a participant's cookie), records
each alert whose state changed (tools repeat themselves), and an acknowledgement as that
person's ``acknowledged`` milestone.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kunren.page import intake
from kunren.page.security import Access, bearer_token
from kunren.page.webapp import WebApp, WebError, read_body
from kunren.record.events import Alert, Milestone


def routes(web: WebApp) -> list[Route]:
    async def endpoint(request: Request) -> Response:
        return await web.guard(request, lambda: receive(web, request))

    return [Route("/intake/{source}", endpoint, methods=["POST"], name="intake")]


async def receive(web: WebApp, request: Request) -> Response:
    """Alertmanager / PagerDuty / generic JSON at ``/intake/<source>``."""
    source = str(request.path_params["source"])
    if source not in intake.SOURCES:
        return _json_error(404, "unknown alert source; use " + ", ".join(intake.SOURCES))
    token = request.query_params.get("token") or bearer_token(request.headers)
    if web.tokens.access(token) is Access.NONE:
        return _json_error(401, "a drill token is required (?token= or Authorization: Bearer)")
    try:
        body = await read_body(request, web.options.max_body)
    except WebError as exc:
        return _json_error(exc.status, "body too large" if exc.status == 413 else "bad body")
    if source == "pagerduty" and web.options.pagerduty_secret:
        signature = request.headers.get("x-pagerduty-signature")
        if not intake.verify_pagerduty_signature(body, signature, web.options.pagerduty_secret):
            return _json_error(401, "X-PagerDuty-Signature does not match")
    try:
        items = intake.parse(source, body)
    except intake.IntakeError as exc:
        return _json_error(400, str(exc))
    web.view.refresh()
    if web.view.ended is not None:
        return _json(200, {"recorded": 0, "ignored": "the drill has ended"})
    recorded = record_alerts(web, items)
    return _json(200, {"recorded": recorded, "unchanged": len(items) - recorded})


def record_alerts(web: WebApp, items: list[intake.IntakeItem]) -> int:
    """Record each alert whose state changed; returns how many were recorded."""
    recorded = 0
    for item in items:
        if web.view.alert_status(item.source, item.name) == item.status:
            continue
        web.control.record(
            Alert(source=item.source, name=item.name, status=item.status, actor=item.actor)
        )
        recorded += 1
        web.view.refresh()
        if item.status == "acknowledged":
            actor = item.actor or item.source
            if web.view.milestone(actor, "acknowledged") is None:
                web.control.record(
                    Milestone(
                        name="acknowledged",
                        actor=actor,
                        role=web.view.role_of(actor),
                        source="alert",
                        note=f"{item.source}: {item.name}",
                    )
                )
                web.view.refresh()
    return recorded


def _json(status: int, payload: dict[str, object]) -> Response:
    return WebApp.secure(JSONResponse(payload, status_code=status), "-")


def _json_error(status: int, message: str) -> Response:
    return _json(status, {"error": message})
