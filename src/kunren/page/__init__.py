"""The participant and facilitator web app, and the alert intake, served while a drill runs.

Support staff and engineers take part from a page on their laptop or phone: they join in a
role, see the drill clock and the injects addressed to them, press a button per milestone,
run the runbooks their role may run and confirm they can open the tools they need. The
facilitator watches the live timeline, amends times and can abort. Alertmanager, PagerDuty and
plain JSON alerts come in on the same server. Everything lands in the drill's event log.

    control = LocalDrillControl(scenario, log, clock, participant_token=..., facilitator_token=...)
    server = await serve(create_app(control), "127.0.0.1", 0)
    print(server.links(control).join)
    ...
    await server.stop()

starlette and uvicorn are imported only by ``create_app`` and ``serve``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kunren.page.control import (
    DrillControl,
    InjectorRunbooks,
    LocalDrillControl,
    RunbookOutcome,
    RunbookRunner,
)
from kunren.page.options import AppOptions, WebLinks, WebOptions
from kunren.page.security import new_token
from kunren.page.server import RunningServer, serve

if TYPE_CHECKING:
    from kunren.notify import NoticeService


def create_app(
    control: DrillControl,
    options: AppOptions | None = None,
    notices: NoticeService | None = None,
) -> Any:
    """The ASGI (Starlette) app for one drill; see ``AppOptions``.
    With ``notices`` the page offers the customer-notice form."""
    from kunren.page.app import build_app  # starlette only when serving

    return build_app(control, options, notices)


__all__ = [
    "AppOptions",
    "DrillControl",
    "InjectorRunbooks",
    "LocalDrillControl",
    "RunbookOutcome",
    "RunbookRunner",
    "RunningServer",
    "WebLinks",
    "WebOptions",
    "create_app",
    "new_token",
    "serve",
]
