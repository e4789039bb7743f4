"""The "send a customer notice" part of the participant page, over ``kunren.notify``.

Support staff practise the customer side here: pick a template and an audience, fill in the
details, preview exactly what goes out and to how many people, then send it, or request
approval when the scenario wants one (``notifications.approval``); approvers see what waits
for them. ``NoticeService`` does the work and records every step; this module only shows it.
A notice is never sent twice by a double click: each form carries a key that is claimed
before sending, and one notice sends at a time.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from kunren.errors import KunrenError
from kunren.page.security import Access, FieldError, clean_note
from kunren.page.webapp import Req, WebApp, WebError

if TYPE_CHECKING:
    from kunren.notify import NoticeService, Preview

MAX_VALUE = 500
AUTOMATIC = frozenset({"now", "drill_id", "scenario_title", "marker"})  # kunren fills these
PENDING = json.dumps({"ok": False, "error": "pending"})


def routes(web: WebApp) -> list[Route]:
    if web.notices is None:
        return []
    p = Access.PARTICIPANT
    return [web.route("/notice", notice, p, "POST"), web.route("/notice/decide", decide, p, "POST")]


def may_notify(web: WebApp, role: str) -> bool:
    """Roles expected to reach the ``customer_notified`` milestone may send notices."""
    return "customer_notified" in web.control.scenario.milestones_for_role(role)


def context(web: WebApp, req: Req, role: str) -> dict[str, Any] | None:
    """What the page shows of notices for ``role`` (None: no notice section)."""
    service = web.notices
    if service is None or not service.templates() or not may_notify(web, role):
        return None
    templates = service.templates()
    defaults = service.variables()
    names = sorted({name for info in templates for name in info.variables} - AUTOMATIC)
    states = service.notices()
    is_approver = role in service.approvers
    pending = [_pending(service, s.notice) for s in states if s.status == "drafted"]
    return {
        "templates": [(info.name, ", ".join(info.languages)) for info in templates],
        "langs": sorted({lang for info in templates for lang in info.languages}),
        "lang": req.lang,
        "audiences": [
            (a.name, req.t("notice_audience_size", count=a.count, allowed=a.allowed))
            for a in service.audiences()
        ],
        "variables": [(name, defaults.get(name, "")) for name in names],
        "needs_approval": service.needs_approval,
        "approvers": ", ".join(service.approvers),
        "pending": pending if is_approver else [],
        "ready": [s for s in states if s.status == "approved"],
        "sent": [s for s in states if s.status in ("sent", "failed")],
    }


def _pending(service: NoticeService, notice_id: str) -> dict[str, str]:
    preview = service.preview_notice(notice_id)
    state = service.notice(notice_id)
    return {
        "notice": notice_id,
        "author": f"{state.author} ({state.author_role or '-'})",
        "subject": preview.subject,
        "body": preview.body,
    }


def _service(web: WebApp) -> NoticeService:
    if web.notices is None:
        raise WebError(404, "err_not_found")
    return web.notices


def _request(req: Req) -> dict[str, Any]:
    """Template, language, audience and variables from the form (``var.<name>`` fields)."""
    values = {}
    for field, value in req.form.items():
        if field.startswith("var.") and value.strip():
            try:
                values[field[4:][:60]] = clean_note(value, MAX_VALUE)
            except FieldError as exc:
                raise WebError(400, "err_note", limit=exc.limit) from exc
    return {
        "template": req.form.get("template", ""),
        "lang": req.form.get("lang") or None,
        "audience": req.form.get("audience") or None,
        "vars": values,
    }


async def notice(web: WebApp, req: Req) -> Response:
    """``action``: preview (nothing recorded), draft (request approval) or send."""
    service = _service(web)
    actor, role = req.session.actor, req.session.role
    if actor is None or role is None:
        raise WebError(409, "err_join_first")
    if not may_notify(web, role):
        raise WebError(403, "err_notice_role")
    action = req.form.get("action", "preview")
    asked = _request(req)
    try:
        if action == "preview":
            return _preview_reply(req, service.preview(**asked))
        web.refuse_if_ended()
        if action == "draft":
            event = service.draft(**asked, author=actor, role=role)
            message = req.t(
                "notice_drafted", notice=event.notice, roles=", ".join(service.approvers)
            )
            return web.done(req, message, seq=event.seq)
        if action == "send":
            return await _send(web, req, service, actor, role, asked)
    except KunrenError as exc:
        raise WebError(400, "err_notice", message=exc.message) from exc
    raise WebError(400, "err_bad_request")


def _preview_reply(req: Req, preview: Preview) -> Response:
    data = {
        "subject": preview.subject,
        "body": preview.body,
        "recipients": req.t(
            "notice_recipients",
            count=preview.recipient_count,
            allowed=preview.allowed_count,
            captured=preview.captured_count,
        ),
        "warnings": [w.message for w in preview.warnings],
        "missing": req.t("notice_missing", names=", ".join(preview.missing))
        if preview.missing
        else "",
    }
    if req.wants_json:
        return JSONResponse({"ok": True, "message": req.t("notice_previewed"), "preview": data})
    req.session.flash = f"{data['subject']} — {data['recipients']}"
    return RedirectResponse("/", status_code=303)


async def _send(
    web: WebApp,
    req: Req,
    service: NoticeService,
    actor: str,
    role: str,
    asked: dict[str, Any],
) -> Response:
    from kunren.notify import NoticeRequest

    key = req.form.get("key", "")[:64]
    previous = req.session.remembered(key)
    if previous == PENDING:
        raise WebError(409, "notice_busy")
    replayed = web.replay(req, key)
    if replayed is not None:
        return replayed
    target = req.form.get("notice", "")
    lock = f"notice:{target or key}"
    if lock in web.running:
        raise WebError(409, "notice_busy")
    web.running.add(lock)
    req.session.remember(key, PENDING)  # claimed before the first await: a double click waits
    try:
        request = target or NoticeRequest(**asked)
        result = await service.send_async(request, sender=actor, role=role)
    except BaseException:
        req.session.replies.pop(key, None)
        raise
    finally:
        web.running.discard(lock)
    events = result.events
    delivered = sum(e.delivered for e in events)
    captured = sum(e.captured for e in events)
    message = req.t("notice_sent", notice=result.notice, delivered=delivered, captured=captured)
    if result.failed_count:
        message += " " + req.t("notice_failed", failed=result.failed_count)
    return web.done(req, message, key, seq=events[-1].seq if events else None)


async def decide(web: WebApp, req: Req) -> Response:
    """An approver approves or rejects a drafted notice."""
    service = _service(web)
    actor, role = req.session.actor, req.session.role
    if actor is None or role is None:
        raise WebError(409, "err_join_first")
    notice_id = req.form.get("notice", "")
    try:
        reason = clean_note(req.form.get("reason"))
    except FieldError as exc:
        raise WebError(400, "err_note", limit=exc.limit) from exc
    web.refuse_if_ended()
    try:
        if req.form.get("decision") == "approve":
            event = service.approve(notice_id, actor, role)
            message = req.t("notice_approved", notice=notice_id)
        else:
            event = service.reject(notice_id, actor, role, reason)
            message = req.t("notice_rejected", notice=notice_id)
    except KunrenError as exc:
        raise WebError(400, "err_notice", message=exc.message) from exc
    return web.done(req, message, seq=event.seq)
