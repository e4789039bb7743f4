"""The facilitator's routes: the live timeline, who joined in which role, mark, abort, amend.

Only the facilitator token opens these. The timeline is the record itself (polled as JSON);
amending a time writes an ``amendment`` event and never edits the log, so the retro can see
both what was clicked and what the facilitator corrected.
"""

from __future__ import annotations

import bisect
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kunren.durations import format_clock, parse_offset
from kunren.page import push, timeline_words
from kunren.page.i18n import role_label
from kunren.page.request import Req, WebError, field_error
from kunren.page.security import Access, FieldError, clean_name, clean_note
from kunren.page.webapp import WebApp
from kunren.record.events import Amendment, Event, Milestone
from kunren.record.timeline import entry


def routes(web: WebApp) -> list[Route]:
    f = Access.FACILITATOR
    return [
        web.route("/facilitator", page, f),
        web.route("/api/timeline", timeline, f),
        web.stream_route("/api/timeline/stream", timeline_stream, f),
        web.route("/facilitator/mark", mark, f, "POST"),
        web.route("/facilitator/amend", amend, f, "POST"),
        web.route("/facilitator/abort", abort, f, "POST"),
    ]


def _titles(web: WebApp, req: Req) -> dict[str, str]:
    service = web.notices
    if service is None:
        return {}
    return {i.name: i.meta.text("title", req.lang, i.name) for i in service.templates()}


def row(
    web: WebApp, req: Req, event: Event, titles: dict[str, str] | None = None
) -> dict[str, Any]:
    """One timeline row, rendered from the event's structured entry in the page's language."""
    e = entry(event)
    amended = web.view.amended.get(e.seq)
    moved_to = e.count if e.kind == "amendment" and e.count is not None else None
    return {
        "seq": e.seq,
        "at": format_clock(e.at),
        "amended": req.t("amended_to", at=format_clock(amended)) if amended is not None else "",
        "type": e.kind,
        "kind": timeline_words.kind(e, req.t),
        "actor": e.actor or "",
        "role": e.role or "",
        "detail": timeline_words.detail(e, req.t, web.control.scenario, titles),
        "target": e.refers_to,
        "target_amended": (
            req.t("amended_to", at=format_clock(moved_to)) if moved_to is not None else ""
        ),
    }


def participants(
    web: WebApp, req: Req, only: set[tuple[str, str]] | None = None
) -> list[dict[str, str]]:
    """Who joined in which role and whether their tools open; ``only`` these (actor, role)."""
    rows = []
    for key, p in web.view.participants.items():
        if only is not None and key not in only:
            continue
        spec = web.control.scenario.roles.get(p.role)
        missing = web.view.tools_missing(p.actor, p.role)
        if spec is None or not spec.tools:
            tools = req.t("tools_none")
        elif missing is None:
            tools = req.t("tools_unanswered")
        elif missing:
            tools = req.t("tools_missing", tools=", ".join(missing))
        else:
            tools = req.t("tools_ok")
        rows.append(
            {
                "key": f"{p.role}:{p.actor}",
                "actor": p.actor,
                "role": role_label(web.control.scenario, p.role, req.t),
                "joined": format_clock(p.joined_at),
                "tools": tools,
            }
        )
    return rows


async def page(web: WebApp, req: Req) -> Response:
    flash, req.session.flash = req.session.flash, None
    scenario = web.control.scenario
    titles = _titles(web, req)
    rows = [row(web, req, event, titles) for event in reversed(web.view.events)]
    return web.render(
        req,
        "facilitator.html",
        flash=flash,
        rows=rows,
        participants=participants(web, req),
        last_seq=web.view.last_seq,
        mark_milestones=[
            (name, scenario.milestone_label(name, req.lang)) for name in scenario.milestone_names
        ],
        mark_roles=[(name, role_label(scenario, name, req.t)) for name in _roles(web)],
    )


def _roles(web: WebApp) -> list[str]:
    return list(web.control.scenario.roles) or ["participant"]


def _after(req: Req) -> int:
    try:
        return max(0, int(req.request.query_params.get("after", "0")))
    except ValueError as exc:
        raise WebError(400, "err_bad_request") from exc


def _timeline(
    web: WebApp, req: Req, after: int, people: set[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """The rows after seq ``after``, the clock and the end, and every person who joined; or,
    with ``people``, only those people's rows (``people``: what a pushed update carries)."""
    clock = web.clock_state()
    titles = _titles(web, req)
    since = web.view.events[bisect.bisect_right(web.view.events, after, key=_seq) :]
    state: dict[str, Any] = {
        "now": clock["now"],
        "speed": clock["speed"],
        "ended": web.ended_text(req.t),
        "last_seq": web.view.last_seq,
        "events": [row(web, req, e, titles) for e in since],
    }
    if people is None:
        state["participants"] = participants(web, req)
    elif people:
        state["people"] = participants(web, req, people)
    return state


def _seq(event: Event) -> int:
    return event.seq


async def timeline(web: WebApp, req: Req) -> Response:
    """What the facilitator view polls when it cannot hold a stream."""
    return JSONResponse(_timeline(web, req, _after(req)))


async def timeline_stream(web: WebApp, req: Req) -> Response:
    """The timeline pushed as the record grows: the rows after ``after`` and everyone who
    joined first, then each batch of new rows, with the rows of the people who joined or
    answered a readiness check since (one join costs one row, however many have joined)."""
    sent = _after(req)

    def since_sent(people: set[tuple[str, str]] | None) -> str:
        nonlocal sent
        state = _timeline(web, req, sent, people)
        sent = state["last_seq"]
        return push.message(state)

    def after(changed: set[push.Scope]) -> tuple[list[str], bool]:
        ended = "end" in changed or web.view.ended is not None
        people = sub.take_people()
        if changed & {"timeline", "people", "end"}:
            return [since_sent(people)], ended
        return ([push.message(web.clock_now())] if "clock" in changed else []), ended

    sub = web.changes.subscribe(None, None, facilitator=True)
    first = since_sent(people=None)
    return web.open_stream(sub, [first], after, done=web.view.ended is not None)


def _facilitator_name(req: Req) -> str:
    try:
        return clean_name(req.form.get("actor")) if req.form.get("actor") else "facilitator"
    except FieldError as exc:
        raise field_error(exc) from exc


async def mark(web: WebApp, req: Req) -> Response:
    """A milestone recorded by the facilitator for someone: any milestone, whatever their
    role's own list (the person told the facilitator, or had no page), marked as such."""
    key = req.form.get("key", "")[:64]
    replayed = web.replay(req, key, redirect="/facilitator")
    if replayed is not None:
        return replayed  # a double click records once
    scenario = web.control.scenario
    name = req.form.get("milestone", "")
    if name not in scenario.milestone_names:
        raise WebError(400, "err_milestone")
    role = req.form.get("role", "")
    if role not in _roles(web):
        raise WebError(400, "err_role")
    try:
        person = clean_name(req.form.get("person"))
        text = clean_note(req.form.get("note"))
    except FieldError as exc:
        raise field_error(exc) from exc
    web.refuse_if_ended()
    written, _ = await web.record(
        Milestone(name=name, actor=person, role=role, source="facilitator", note=text),
        once=("posted", req.session.sid, key) if key else None,
    )
    message = req.t("marked_for", actor=person, at=format_clock(written.at))
    return web.done(req, message, key, redirect="/facilitator", seq=written.seq)


async def amend(web: WebApp, req: Req) -> Response:
    actor = _facilitator_name(req)
    raw_seq = req.form.get("seq", "").strip().lstrip("#")
    target = web.view.event(int(raw_seq)) if raw_seq.isdigit() else None
    if target is None or isinstance(target, Amendment):
        raise WebError(400, "err_amend_seq", seq=raw_seq[:12])
    try:
        new_at = parse_offset(req.form.get("at", ""))
    except ValueError as exc:
        raise WebError(400, "err_amend_time") from exc
    try:
        reason = clean_note(req.form.get("reason"))
    except FieldError as exc:
        raise field_error(exc) from exc
    written, _ = await web.record(
        Amendment(target_seq=target.seq, new_at=new_at, actor=actor, reason=reason)
    )
    message = req.t("amended", seq=target.seq, at=format_clock(new_at))
    return web.done(req, message, redirect="/facilitator", seq=written.seq)


async def abort(web: WebApp, req: Req) -> Response:
    actor = _facilitator_name(req)
    if req.form.get("confirm") != "yes":
        raise WebError(400, "err_abort_confirm")
    try:
        reason = clean_note(req.form.get("reason"), required=True, error="err_reason")
    except FieldError as exc:
        raise field_error(exc) from exc
    web.refuse_if_ended()
    await web.control.abort(reason, actor)
    return web.done(req, req.t("abort_requested"), redirect="/facilitator")
