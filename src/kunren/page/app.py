"""The participant web app as a Starlette application: the routes on the shared plumbing.

``kunren.page.webapp`` holds what every route needs (the guard, sessions, rendering); each
route module (``pages``, ``facilitator``, ``notices``, ``alerts``) declares its routes on it;
this module only puts them together. Imports go one way, top to bottom, with no circle:
app -> route modules -> webapp (the page's layers contract in pyproject.toml holds it).

Imported only by ``kunren.page.create_app``: starlette stays out of ``kunren --help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.applications import Starlette

from kunren.page import alerts, facilitator, notices, pages
from kunren.page.control import DrillControl
from kunren.page.direct import PageApp, error_handlers
from kunren.page.options import AppOptions
from kunren.page.webapp import WebApp

if TYPE_CHECKING:
    from kunren.notify import NoticeService


def build_app(
    control: DrillControl,
    options: AppOptions | None = None,
    notice_service: NoticeService | None = None,
) -> Starlette:
    """The Starlette app serving one drill's participant page, facilitator view and intake;
    with ``notice_service``, participants can also send customer notices from the page."""
    web = WebApp(control, options or AppOptions(), notice_service)

    routes = [
        *pages.routes(web),
        *facilitator.routes(web),
        *notices.routes(web),
        *alerts.routes(web),
    ]
    app = PageApp(  # every exact path served past Starlette's layers, through its guard
        web.direct, routes=routes, exception_handlers=error_handlers(web)
    )
    app.state.web = web
    app.state.on_stop = web.on_stop  # the server's stop ends open streams first
    return app
