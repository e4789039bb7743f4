"""The plumbing every route of the participant web app shares, on Starlette.

Each route is declared with the access it needs; ``WebApp.route`` wraps it so that, before the
handler runs, the token is checked, the session found, a cross-site or oversized request
refused, the CSRF token checked and the record refreshed. Handlers (``pages``,
``facilitator``, ``notices``, ``alerts``) only decide what to record and show; they import
this module, and ``kunren.page.app`` imports them to assemble the app, so imports go one
way (an import-linter contract in pyproject.toml holds the page's layers).

Imported only when an app is built: starlette stays out of ``kunren --help``.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
from collections.abc import Awaitable, Callable, Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from kunren.durations import format_clock
from kunren.errors import RecordWriteError
from kunren.page.control import DrillControl
from kunren.page.i18n import Translator, pick_lang
from kunren.page.options import AppOptions
from kunren.page.push import Changes, Next, PushOptions, Subscriber
from kunren.page.rendered import Fill, PageCache
from kunren.page.request import Req, WebError, new_key, parse_form, read_body
from kunren.page.security import (
    SECURITY_HEADERS,
    Access,
    SessionStore,
    Tokens,
    bearer_token,
    content_security_policy,
    cookie_suffix,
    cross_site_reason,
)
from kunren.page.state import DrillView
from kunren.page.streaming import EventStream
from kunren.page.writes import PageStopping, Writes
from kunren.record.events import Event

if TYPE_CHECKING:
    from kunren.notify import NoticeService

log = logging.getLogger("kunren.web")

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE = "kunren_lang"


Handler = Callable[["WebApp", Req], Awaitable[Response]]


class WebApp:
    """The state behind the routes: control, tokens, sessions, the record's view, templates."""

    def __init__(
        self, control: DrillControl, options: AppOptions, notices: NoticeService | None = None
    ) -> None:
        self.control = control
        self.options = options
        self.notices = notices
        self.tokens = Tokens(control.participant_token, control.facilitator_token)
        self.sessions = SessionStore()
        self.changes = Changes(
            control.clock,
            control.scenario.duration,
            PushOptions(
                keepalive_seconds=options.keepalive_seconds,
                watch_seconds=options.watch_seconds,
                retry_ms=int(options.poll_seconds * 1000),
            ),
        )
        self.view = DrillView(control, on_new=self.changes.publish)
        self.running: set[str] = set()  # runbooks and notices in flight: one at a time
        # (method, path) -> guarded endpoint, served past the router (kunren.page.direct)
        self.direct: dict[tuple[str, str], Callable[[Request], Awaitable[Response]]] = {}
        self.writes = Writes(control, self.view)
        suffix = cookie_suffix(control.drill_id)
        self.cookie = {
            Access.PARTICIPANT: f"kunren_p_{suffix}",
            Access.FACILITATOR: f"kunren_f_{suffix}",
        }
        self.session_cookie = f"kunren_s_{suffix}"
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=StrictUndefined,
            auto_reload=False,  # the templates ship with the package: no stat per render
        )
        self.pages = PageCache(self.env)

    # ------------------------------------------------------------------ the guard

    def route(self, path: str, handler: Handler, level: Access, method: str = "GET") -> Route:
        async def endpoint(request: Request) -> Response:
            return await self.guard(request, lambda: self._handle(request, handler, level))

        if "{" not in path:  # an exact path: served past the router, through the same guard
            self.direct[(method, path)] = endpoint
        return Route(path, endpoint, methods=[method], name=handler.__name__)

    def stream_route(self, path: str, handler: Handler, level: Access) -> Route:
        """A route whose answer is held open (an event stream): declared like any other (and
        served past the router like any exact path, ``kunren.page.direct``), so an open page
        keeps as little alive as it can."""
        return self.route(path, handler, level)

    async def _handle(self, request: Request, handler: Handler, level: Access) -> Response:
        req = await self._prepare(request, level)
        if isinstance(req, Response):
            return req
        return self.finish(req, await handler(self, req))

    async def guard(self, request: Request, call: Callable[[], Awaitable[Response]]) -> Response:
        """The error boundary: a refusal becomes its page, anything else a generic 500.

        Errors are answered here rather than re-raised to the server, so the connection
        stays usable and the traceback goes to the log only.
        """
        try:
            return await call()
        except WebError as exc:
            return self.error_response(request, exc.status, exc.key, exc.values)
        except Exception:
            log.exception("error serving %s %s", request.method, request.url.path)
            return self.error_response(request, 500, "err_internal", {})

    def error_response(
        self, request: Request, status: int, key: str, values: dict[str, object]
    ) -> Response:
        t = self.translator(request)
        message = t(key, **values)
        nonce = secrets.token_urlsafe(16)
        wants_json = "application/json" in request.headers.get("accept", "")
        if wants_json or request.url.path.startswith(("/api/", "/intake/")):
            return self.secure(
                JSONResponse({"ok": False, "error": message}, status_code=status), nonce
            )
        html = self.env.get_template("error.html").render(
            t=t, lang=t.lang, nonce=nonce, message=message, status=status
        )
        return self.secure(HTMLResponse(html, status_code=status), nonce)

    def translator(self, request: Request) -> Translator:
        return Translator(
            pick_lang(
                request.query_params.get("lang"),
                request.cookies.get(LANG_COOKIE),
                request.headers.get("accept-language"),
                self.control.scenario.lang,
            )
        )

    async def _prepare(self, request: Request, level: Access) -> Req | Response:
        t = self.translator(request)
        query_token = request.query_params.get("token") if request.method == "GET" else None
        presented = [
            query_token,
            request.cookies.get(self.cookie[Access.PARTICIPANT]),
            request.cookies.get(self.cookie[Access.FACILITATOR]),
            bearer_token(request.headers),
        ]
        access = self.tokens.best(presented)
        if access is Access.NONE:
            raise WebError(401, "err_token")
        if access < level:
            raise WebError(403, "err_facilitator_only")
        if query_token is not None:
            return self._strip_token(request, query_token)
        session = self.sessions.get(request.cookies.get(self.session_cookie))
        req_cookies: dict[str, str] = {}
        if session is None:
            if request.method != "GET":
                raise WebError(403, "err_csrf")
            session = self.sessions.create()
            req_cookies[self.session_cookie] = session.sid
        if "lang" in request.query_params and request.query_params["lang"] == t.lang:
            req_cookies[LANG_COOKIE] = t.lang
        req = Req(request, access, session, t, secrets.token_urlsafe(16), cookies=req_cookies)
        if request.method == "POST":
            reason = cross_site_reason(request.headers, request.url.scheme)
            if reason is not None:
                log.warning(
                    "refused a cross-site %s %s: %s", request.method, request.url.path, reason
                )
                raise WebError(403, "err_cross_site")
            req.form = parse_form(await read_body(request, self.options.max_body), request)
            presented_csrf = req.form.get("csrf") or request.headers.get("x-csrf-token")
            if not session.check_csrf(presented_csrf):
                raise WebError(403, "err_csrf")
        self.view.refresh()
        return req

    def _strip_token(self, request: Request, token: str) -> Response:
        """Trade the link's token for a cookie, so it leaves the address bar and history."""
        access = self.tokens.access(token)
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        target = request.url.path + (f"?{urlencode(query)}" if query else "")
        response = RedirectResponse(target, status_code=303)
        if access is not Access.NONE:
            response.set_cookie(self.cookie[access], token, httponly=True, samesite="lax")
        return self.secure(response, secrets.token_urlsafe(16))

    # ------------------------------------------------------------------ recording and pushing

    async def record(self, event: Event, once: Hashable | None = None) -> tuple[Event, bool]:
        """Append ``event`` off the event loop (``kunren.page.writes``); see ``Writes.record``.
        A write the disk refuses is the participant's refusal (503, in their language: a full
        disk or a failing one) and one line in the log: the conductor hears of it from its
        recorder and stops the drill."""
        try:
            return await self.writes.record(event, once)
        except RecordWriteError as exc:
            log.error("a %s from the page was not recorded: %s", event.type, exc)
            key = "err_not_recorded_full" if exc.disk_full else "err_not_recorded"
            raise WebError(503, key) from exc
        except PageStopping as exc:
            raise WebError(503, "err_stopping") from exc

    def open_stream(
        self, sub: Subscriber, first: list[str], after: Next, done: bool = False
    ) -> Response:
        """A page's stream of server-sent events (``kunren.page.push``), watched while open."""
        if not done:
            self.changes.watch(self.view.refresh, self.ticking)
        return EventStream(
            self.changes.stream(sub, first, after, done),
            sub,
            headers={"X-Accel-Buffering": "no"},  # nginx: pass each event on at once
        )

    def on_stop(self) -> None:
        """The server is stopping: end the open streams, the record read once more first so a
        drill's end recorded just before is each page's last message (not "server gone"), and
        let the page's write threads go once their writes are done."""
        try:
            self.view.refresh()
        except Exception:  # a record being repaired: the streams end all the same
            log.exception("could not read the record before ending the open pages' streams")
        self.changes.close()
        self.writes.close()

    def ticking(self) -> bool:
        """Whether the page's own clock keeps time (it runs at the drill clock's speed)."""
        return bool(self.clock_state()["speed"] > 0)

    # ------------------------------------------------------------------ responses

    def finish(self, req: Req, response: Response) -> Response:
        for name, value in req.cookies.items():
            response.set_cookie(name, value, httponly=name != LANG_COOKIE, samesite="lax")
        return self.secure(response, req.nonce)

    @staticmethod
    def secure(response: Response, nonce: str) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        response.headers["Content-Security-Policy"] = content_security_policy(nonce)
        return response

    def render(
        self, req: Req, template: str, status: int = 200, cached: bool = False, **context: Any
    ) -> Response:
        """``template`` rendered for this request; ``cached``: from the pages already rendered
        for the same state, with this response's nonce, CSRF token, keys, time and name put
        in (``kunren.page.rendered``: the same bytes as a fresh render)."""
        clock = self.clock_state(req.t)
        shared = {
            "t": req.t,
            "lang": req.lang,
            "scenario": self.control.scenario,
            "poll_ms": int(self.options.poll_seconds * 1000),
            "stream_wait_ms": int(self.options.stream_wait_seconds * 1000),
            **context,
        }
        if cached:
            actor = shared.pop("actor", None)
            fill = Fill(req.nonce, req.session.csrf, clock["now"], actor)
            page = self.pages.render(
                template, shared, {k: v for k, v in clock.items() if k != "now"}, fill, new_key
            )
            if page is not None:
                return HTMLResponse(page, status_code=status)
            if actor is not None:
                shared["actor"] = actor
        html = self.env.get_template(template).render(
            **shared,
            nonce=req.nonce,
            csrf=req.session.csrf,
            clock=clock,
            fmt=format_clock,
            new_key=new_key,
        )
        return HTMLResponse(html, status_code=status)

    def clock_state(self, t: Translator | None = None) -> dict[str, Any]:
        """Drill time now and how fast it runs (0: it does not tick, e.g. virtual or ended)."""
        ended = self.view.ended
        if ended is not None:
            return {"now": ended.at, "speed": 0.0, "ended": self.ended_text(t)}
        speed = self.control.clock.speed
        return {
            "now": round(self.control.clock.now(), 3),
            "speed": speed if math.isfinite(speed) and speed > 0 else 0.0,
            "ended": None,
        }

    def clock_now(self) -> dict[str, float]:
        """The drill time now and the speed the page's clock ticks at (what a push carries)."""
        clock = self.clock_state()
        return {"now": clock["now"], "speed": clock["speed"]}

    def ended_text(self, t: Translator | None) -> str | None:
        ended = self.view.ended
        if ended is None:
            return None
        t = t or Translator("en")
        if ended.type == "drill.aborted":
            return t("drill_aborted", reason=ended.reason)
        return t("drill_ended")

    def done(
        self, req: Req, message: str, key: str = "", redirect: str = "/", **data: Any
    ) -> Response:
        """An action's success: JSON for the page's script, a redirect for a plain form."""
        payload = {"ok": True, "message": message, **data}
        req.session.remember(key, json.dumps(payload))
        if req.wants_json:
            return JSONResponse(payload)
        req.session.flash = message
        return RedirectResponse(redirect, status_code=303)

    def replay(self, req: Req, key: str, redirect: str = "/") -> Response | None:
        """The same answer again for a repeated idempotency key: nothing new is recorded."""
        previous = req.session.remembered(key)
        if previous is None:
            return None
        if req.wants_json:
            return JSONResponse(json.loads(previous))
        return RedirectResponse(redirect, status_code=303)

    def refuse_if_ended(self) -> None:
        if self.view.ended is not None:
            raise WebError(409, "err_ended")
