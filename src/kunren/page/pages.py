"""The participant's routes: join, the drill page, milestones, runbooks, readiness and notes.

Every click is a timed event the scorer reads, so each handler records at once and answers
with what was recorded; a repeated click (same idempotency key, or a milestone this person
already reached) answers with the first record instead of writing a second one.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from kunren.durations import format_clock
from kunren.errors import KunrenError
from kunren.page import notices
from kunren.page.i18n import Translator
from kunren.page.i18n import role_label as translated_role
from kunren.page.push import Scope, message
from kunren.page.request import Req, WebError, field_error
from kunren.page.security import Access, FieldError, clean_name, clean_note
from kunren.page.webapp import WebApp
from kunren.record.events import Milestone, Note, Notification, ParticipantJoined, Readiness
from kunren.scenarios.models import RunbookSpec

log = logging.getLogger("kunren.web")

MAX_DETAIL = 300
DEFAULT_ROLE = "participant"


def routes(web: WebApp) -> list[Route]:
    p = Access.PARTICIPANT
    return [
        web.route("/", home, p),
        web.route("/join", join, p, "POST"),
        web.route("/leave", leave, p, "POST"),
        web.route("/milestone", milestone, p, "POST"),
        web.route("/runbook", runbook, p, "POST"),
        web.route("/readiness", readiness, p, "POST"),
        web.route("/note", note, p, "POST"),
        web.route("/api/state", state, p),
        web.stream_route("/api/stream", stream, p),
    ]


def role_names(web: WebApp) -> list[str]:
    """The scenario's roles; a scenario without roles has one role for everybody."""
    return list(web.control.scenario.roles) or [DEFAULT_ROLE]


def role_label(web: WebApp, req: Req, role: str) -> str:
    return translated_role(web.control.scenario, role, req.t)


def runbooks_for(web: WebApp, role: str) -> list[RunbookSpec]:
    return [r for r in web.control.scenario.runbooks if r.allows(role)]


def _identity(web: WebApp, req: Req) -> tuple[str, str]:
    actor, role = req.session.actor, req.session.role
    if actor is None or role is None or role not in role_names(web):
        raise WebError(409, "err_join_first")
    return actor, role


def _safe_url(url: str | None) -> str | None:
    """Only web links become links: a scenario's ``javascript:`` URL stays text."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


# ---------------------------------------------------------------------- pages


async def home(web: WebApp, req: Req) -> Response:
    flash, req.session.flash = req.session.flash, None
    if req.session.actor is None or req.session.role not in role_names(web):
        roles = [(name, role_label(web, req, name)) for name in role_names(web)]
        return web.render(req, "join.html", cached=True, roles=roles, flash=flash)
    actor, role = req.session.actor, req.session.role
    assert role is not None
    scenario = web.control.scenario
    milestones = [
        {
            "name": name,
            "label": scenario.milestone_label(name, req.lang),
            "recorded": _recorded_text(web, req, actor, name),
        }
        for name in scenario.milestones_for_role(role)
    ]
    spec = scenario.roles.get(role)
    tools = [
        {
            "name": tool.name,
            "url": _safe_url(tool.url),
            "text_url": tool.url or "",
            "description": tool.description,
            "answer": _answer(web, actor, role, tool.name),
        }
        for tool in (spec.tools if spec else [])
    ]
    runbooks = [
        {
            "id": r.id,
            "title": r.title,
            "description": r.description,
            "doc": _safe_url(r.doc),
            "confirm": r.confirm,
        }
        for r in runbooks_for(web, role)
    ]
    return web.render(
        req,
        "participant.html",
        cached=True,
        actor=actor,
        role=role_label(web, req, role),
        flash=flash,
        injects=_injects(web, req.t, role),
        failing=", ".join(web.view.failing()),
        milestones=milestones,
        tools=tools,
        runbooks=runbooks,
        notices=notices.context(web, req, role),
        summary=_summary(web, req, actor, role),
    )


def _recorded_text(web: WebApp, req: Req, actor: str, name: str) -> str | None:
    first = web.view.reached(actor, name)
    if first is None:
        return None
    at = format_clock(web.view.at(first))
    key = "notified_by_notice" if isinstance(first, Notification) else "recorded_at"
    return req.t(key, at=at)


def _summary(web: WebApp, req: Req, actor: str, role: str) -> list[str]:
    """What this person did in the drill, for the page once the drill is over."""
    scenario = web.control.scenario
    lines = []
    for name in scenario.milestones_for_role(role):
        first = web.view.reached(actor, name)
        if first is not None:
            label = scenario.milestone_label(name, req.lang)
            lines.append(
                req.t("summary_milestone", label=label, at=format_clock(web.view.at(first)))
            )
    if web.notices is not None:
        from kunren.notify.drafts import notice_states
        from kunren.page.notice_words import sent_line

        # from the view's mirror of the record: polled often, so no second read of the log
        for state in notice_states(web.view.events).values():
            if state.sender == actor and state.sent_at is not None:
                lines.append(sent_line(web, req, state)["text"])
    return lines


def _answer(web: WebApp, actor: str, role: str, tool: str) -> bool | None:
    answer = web.view.readiness(actor, role, tool)
    return None if answer is None else answer.ok


def _injects(web: WebApp, t: Translator, role: str) -> list[dict[str, Any]]:
    shown = []
    for event in reversed(web.view.injects_for(role)):
        text = event.text
        if event.kind == "unavailable" and not text:
            text = t("unavailable_text", who=event.who or "?")
        shown.append(
            {
                "seq": event.seq,
                "at": format_clock(web.view.at(event)),
                "kind": event.kind,
                "label": t(f"inject_{event.kind}"),
                "text": text,
            }
        )
    return shown


def _role_state(web: WebApp, t: Translator, role: str, clock: bool = True) -> dict[str, Any]:
    """What every page of ``role`` shows alike: the clock, the injects, the drill's end. A
    pushed role update leaves the clock out (``clock=False``): it is built once and may be
    sent a little later to a slow page, and the page's own clock ticks on in between."""
    now = web.clock_now()
    failing = web.view.failing()
    return {
        **(now if clock else {}),
        "ended": web.ended_text(t),
        "over": now["now"] >= web.control.scenario.duration,
        "injects": _injects(web, t, role) if role else [],
        "failing": t("failing_now", names=", ".join(failing)) if failing else "",
    }


def _own_state(web: WebApp, req: Req) -> dict[str, Any]:
    """What only this person's page shows: the milestones they reached, their summary."""
    role = req.session.role or ""
    actor = req.session.actor or ""
    reached = {
        name: _recorded_text(web, req, actor, name)
        for name in web.control.scenario.milestones_for_role(role)
        if web.view.reached(actor, name) is not None
    }
    return {
        "milestones": reached,
        "summary": _summary(web, req, actor, role) if actor and role else [],
    }


async def state(web: WebApp, req: Req) -> Response:
    """What the page's script polls when it cannot hold a stream: the whole state."""
    role = req.session.role or ""
    return JSONResponse({**_role_state(web, req.t, role), **_own_state(web, req)})


async def stream(web: WebApp, req: Req) -> Response:
    """The page's state pushed as it changes (server-sent events): the whole state first, then
    the role's part when an inject, alert or amendment changes it (built once per role and
    language for all its pages), this person's part when they reach a milestone, the clock
    when it jumps, and the whole state once more when the drill ends, which ends the stream."""
    role = req.session.role or ""
    changes = web.changes

    def whole() -> str:
        return message({**_role_state(web, req.t, role), **_own_state(web, req)})

    def after(changed: set[Scope]) -> tuple[list[str], bool]:
        if "end" in changed or web.view.ended is not None:
            return [whole()], True
        texts = []
        if "role" in changed:
            texts.append(
                changes.shared(
                    role, req.lang, lambda: message(_role_state(web, req.t, role, clock=False))
                )
            )
        if "own" in changed:
            texts.append(message({**web.clock_now(), **_own_state(web, req)}))
        elif "clock" in changed:
            texts.append(message(web.clock_now()))
        return texts, False

    sub = changes.subscribe(role or None, req.session.actor)
    return web.open_stream(sub, [whole()], after, done=web.view.ended is not None)


# ---------------------------------------------------------------------- actions


async def join(web: WebApp, req: Req) -> Response:
    try:
        actor = clean_name(req.form.get("name"))
    except FieldError as exc:
        raise field_error(exc) from exc
    role = req.form.get("role", "")
    if role not in role_names(web):
        raise WebError(400, "err_role")
    web.refuse_if_ended()
    req.session.actor, req.session.role = actor, role
    web.sessions.keep(req.session)  # a joined participant stays joined
    if not web.view.has_joined(actor, role):
        await web.record(ParticipantJoined(actor=actor, role=role), once=("join", actor, role))
    if req.wants_json:
        return JSONResponse({"ok": True, "message": f"{actor} ({role_label(web, req, role)})"})
    return RedirectResponse("/", status_code=303)


async def leave(web: WebApp, req: Req) -> Response:
    req.session.actor = req.session.role = None
    return RedirectResponse("/", status_code=303)


async def milestone(web: WebApp, req: Req) -> Response:
    actor, role = _identity(web, req)
    key = req.form.get("key", "")[:64]
    replayed = web.replay(req, key)
    if replayed is not None:
        return replayed
    name = req.form.get("milestone", "")
    _refuse_other_roles_milestone(web, req, role, name)
    try:
        text = clean_note(req.form.get("note"))
    except FieldError as exc:
        raise field_error(exc) from exc
    first = web.view.reached(actor, name)
    if first is not None:
        at = format_clock(web.view.at(first))
        return web.done(req, req.t("already_recorded", at=at), key, seq=first.seq, at=at)
    web.refuse_if_ended()
    written, fresh = await web.record(
        Milestone(name=name, actor=actor, role=role, source="participant", note=text),
        once=("milestone", actor, name),  # two tabs pressing it at once still make one event
    )
    at = format_clock(written.at)
    said = "recorded_at" if fresh else "already_recorded"
    return web.done(req, req.t(said, at=at), key, seq=written.seq, at=at)


def _refuse_other_roles_milestone(web: WebApp, req: Req, role: str, name: str) -> None:
    """The page shows a role only its own buttons; a hand-made POST is held to the same list,
    so a support click can never become the drill's first "triaged" (the facilitator, from
    ``kunren mark --facilitator``, may record any milestone for anyone)."""
    scenario = web.control.scenario
    if name not in scenario.milestone_names:
        raise WebError(400, "err_milestone")
    allowed = scenario.milestones_for_role(role)
    if name not in allowed:
        labels = [scenario.milestone_label(n, req.lang) for n in allowed]
        raise WebError(
            403,
            "err_milestone_role",
            role=role_label(web, req, role),
            milestone=scenario.milestone_label(name, req.lang),
            names=("、" if req.lang == "ja" else ", ").join(labels) or "-",
        )


async def runbook(web: WebApp, req: Req) -> Response:
    actor, role = _identity(web, req)
    key = req.form.get("key", "")[:64]
    replayed = web.replay(req, key)
    if replayed is not None:
        return replayed
    runbook_id = req.form.get("runbook", "")
    if runbook_id not in {r.id for r in runbooks_for(web, role)}:
        raise WebError(403, "err_runbook")
    web.refuse_if_ended()
    if runbook_id in web.running:
        raise WebError(409, "runbook_busy")
    web.running.add(runbook_id)
    try:
        event = await web.control.run_runbook(runbook_id, actor, role)
    except KunrenError as exc:
        log.error("runbook %s failed to run: %s", runbook_id, exc)
        raise WebError(500, "err_runbook_error") from exc
    finally:
        web.running.discard(runbook_id)
    detail = event.detail[:MAX_DETAIL] or event.result
    message = req.t(f"runbook_{event.result}", detail=detail)
    return web.done(req, message, key, seq=event.seq, result=event.result)


async def readiness(web: WebApp, req: Req) -> Response:
    actor, role = _identity(web, req)
    spec = web.control.scenario.roles.get(role)
    tool = req.form.get("tool", "")
    if spec is None or tool not in {t.name for t in spec.tools}:
        raise WebError(400, "err_tool")
    ok = req.form.get("ok") == "yes"
    try:
        text = clean_note(req.form.get("note"))
    except FieldError as exc:
        raise field_error(exc) from exc
    message = req.t("readiness_ok" if ok else "readiness_no", tool=tool)
    last = web.view.readiness(actor, role, tool)
    if last is not None and last.ok == ok and not text:
        return web.done(req, message, seq=last.seq)
    answer = Readiness(actor=actor, role=role, tool=tool, ok=ok, note=text)
    written, _ = await web.record(answer, once=None if text else ("readiness", actor, tool, ok))
    return web.done(req, message, seq=written.seq)


async def note(web: WebApp, req: Req) -> Response:
    actor, _ = _identity(web, req)
    key = req.form.get("key", "")[:64]
    replayed = web.replay(req, key)
    if replayed is not None:
        return replayed
    try:
        text = clean_note(req.form.get("text"), required=True, error="err_text")
    except FieldError as exc:
        raise field_error(exc) from exc
    web.refuse_if_ended()
    written, _ = await web.record(Note(text=text, actor=actor), once=_posted(req, key))
    return web.done(req, req.t("note_recorded"), key, seq=written.seq)


def _posted(req: Req, key: str) -> tuple[str, str, str] | None:
    """One post, sent twice (a retry) while the first is being written: recorded once."""
    return ("posted", req.session.sid, key) if key else None
