"""The page's app: every declared route served past Starlette's layers, straight to its guard.

A request to the page used to pass, before our guard saw it, Starlette's error middleware,
its exception middleware and the router (which tries each route's pattern in turn), and each
layer wrapped ``send`` again for the response; with a thousand people joining and pressing,
that was a good part of a request's CPU (issue 17: a request cost 1.3-1.8 ms, about half of
it in uvicorn's and Starlette's layers). The open pages' event streams were the first sent
past them (they also kept every layer suspended for the stream's whole life). Here every
route declared with an exact path (``WebApp.route``) goes straight to the same guarded
endpoint the router has: the same token, session, CSRF, origin and size checks, the same
refusals, since the guard is the endpoint and answers every error itself. Anything else (a
path with a parameter, an unknown path, another method, ``HEAD``) goes through Starlette as
before, so its 404 and 405 pages are unchanged.

Imported only when an app is built (starlette).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

if TYPE_CHECKING:
    from kunren.page.webapp import WebApp

log = logging.getLogger("kunren.web")

Endpoint = Callable[[Request], Awaitable[Response]]


class PageApp(Starlette):
    """Starlette, with ``direct``'s (method, path) pairs answered by their endpoints at once."""

    def __init__(self, direct: Mapping[tuple[str, str], Endpoint], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.direct = direct

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            endpoint = self.direct.get((scope["method"], scope["path"]))
            if endpoint is not None:
                scope["app"] = self
                response = await endpoint(Request(scope, receive))
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def error_handlers(web: WebApp) -> dict[Any, Callable[[Request, Exception], Awaitable[Response]]]:
    """Starlette's own refusals (unknown path, wrong method) and a last resort."""

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        key = {404: "err_not_found", 405: "err_method"}.get(exc.status_code, "err_bad_request")
        return web.error_response(request, exc.status_code, key, {})

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.error("error serving %s %s", request.method, request.url.path, exc_info=exc)
        return web.error_response(request, 500, "err_internal", {})

    return {HTTPException: on_http_error, Exception: on_crash}
