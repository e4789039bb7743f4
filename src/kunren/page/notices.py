"""The "send a customer notice" part of the participant page, over ``kunren.notify``.

Support staff are not engineers, and the first notice is the moment the drill trains. So the
composer speaks their language: templates by their title and when to use them, only the
chosen template's fields with a label, a hint and an example, prefilled and with times in the
drill's zone; the audience in plain words (how many customers, how many this drill really
reaches). Sending takes three deliberate steps: preview (the wording, and what the scenario's
checklist finds missing), then a confirmation that says how many it reaches, then send. The
result is said in words; a failure is shown as a failure with its reason, and a retry sends
only to those the notice did not reach.

``NoticeService`` does the work and records every step; this module only shows it. A notice
is never sent twice by a double click: each form carries a key claimed before sending, and
one notice sends at a time.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from kunren.errors import KunrenError
from kunren.page import notice_words as words
from kunren.page.request import Req, WebError
from kunren.page.security import Access, FieldError, clean_note
from kunren.page.webapp import WebApp

if TYPE_CHECKING:
    from kunren.notify import NoticeService, TemplateInfo

MAX_VALUE = 500
# kunren fills these, or the template has its own default: never a field to fill in
AUTOMATIC = frozenset({"now", "drill_id", "scenario_title", "marker", "signature"})
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
    states = service.notices()
    is_approver = role in service.approvers
    audiences = service.audiences()
    return {
        "templates": [
            _template(req, info, defaults, checked=index == 0)
            for index, info in enumerate(templates)
        ],
        "langs": [
            (code, words.LANG_NAMES.get(code, code))
            for code in sorted({lang for info in templates for lang in info.languages})
        ],
        "lang": req.lang,
        "audiences": [
            {
                "name": a.name,
                "label": words.audience_label(req, a),
                "text": words.audience_reach(req, a.count, a.allowed, service.live),
            }
            for a in audiences
        ],
        "zone": words.zone_text(req, web),
        "needs_approval": service.needs_approval,
        "approvers": words.role_names(web, req, service.approvers),
        "pending": [_pending(web, req, service, s.notice) for s in states if s.status == "drafted"]
        if is_approver
        else [],
        "ready": [s for s in states if s.status == "approved"],
        "sent": [words.sent_line(web, req, s) for s in states if s.sent_at is not None],
        "retry": [s for s in states if s.retryable],
    }


def _template(
    req: Req, info: TemplateInfo, defaults: dict[str, str], *, checked: bool
) -> dict[str, Any]:
    """One template as a choice: title, when to use it, and only its own fields."""
    meta = info.meta
    names = list(meta.variables) + [
        name
        for name in info.variables
        if name not in meta.variables and name not in AUTOMATIC and name not in defaults
    ]
    fields = []
    for name in names:
        help_ = meta.variables.get(name)
        fields.append(
            {
                "name": name,
                "label": help_.text("label", req.lang) if help_ else name,
                "help": help_.text("help", req.lang) if help_ else "",
                "example": help_.text("example", req.lang) if help_ else "",
                "value": defaults.get(name, ""),
            }
        )
    return {
        "name": info.name,
        "title": meta.text("title", req.lang, info.name),
        "when": meta.text("when", req.lang),
        "fields": fields,
        "checked": checked,
    }


def _pending(web: WebApp, req: Req, service: NoticeService, notice_id: str) -> dict[str, str]:
    preview = service.preview_notice(notice_id)
    state = service.notice(notice_id)
    author = f"{state.author} ({words.role_names(web, req, [state.author_role or '-'])})"
    return {
        "notice": notice_id,
        "author": author,
        "subject": preview.subject,
        "body": preview.body,
    }


def _service(web: WebApp) -> NoticeService:
    if web.notices is None:
        raise WebError(404, "err_not_found")
    return web.notices


def _request(req: Req) -> dict[str, Any]:
    """Template, language, audience and variables from the form (``var.<name>`` fields).
    An empty field is sent as empty: the sender cleared it, so it counts as missing."""
    values = {}
    for field, value in req.form.items():
        if field.startswith("var."):
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
            return _preview_reply(web, req, service, asked)
        web.refuse_if_ended()
        if action == "draft":
            event = service.draft(**asked, author=actor, role=role)
            message = req.t("notice_drafted", roles=words.role_names(web, req, service.approvers))
            return web.done(req, message, seq=event.seq, notice=event.notice)
        if action == "send":
            return await _send(web, req, service, actor, role, asked)
    except KunrenError as exc:
        raise WebError(400, "err_notice", message=words.error_text(web, req, exc.message)) from exc
    raise WebError(400, "err_bad_request")


def _preview_reply(
    web: WebApp, req: Req, service: NoticeService, asked: dict[str, Any]
) -> Response:
    preview = service.preview(**asked)
    data = words.preview(web, req, preview)
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
    message, data = words.result(req, result, service.notice(result.notice))
    return web.done(req, message, key, seq=events[-1].seq if events else None, **data)


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
        raise WebError(400, "err_notice", message=words.error_text(web, req, exc.message)) from exc
    return web.done(req, message, seq=event.seq)
