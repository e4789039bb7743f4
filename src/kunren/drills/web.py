"""The participant page and the alert intake of a running drill: when each is up and down.

The conductor serves both only when asked (``--web``). The intake comes up first, before the
services, since monitoring may post while they start; the page comes up once the drill has
begun. The intake stops with the rest of the drill (on the finish path), while the page stops
only after the drill's end is recorded, so the people on it see the end: with someone joined,
on a clock where real time passes, it stays up one poll longer (``PAGE_GRACE`` real seconds).
The starlette parts are imported only when used (``kunren.drills.serving``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from kunren.runtime.clock import Clock, RealClock, is_virtual

if TYPE_CHECKING:
    from kunren.drills.serving import RunningIntake, ServedDrill
    from kunren.page import RunningServer, WebOptions

PAGE_GRACE = 4.0  # real seconds the page outlives the drill's end: one poll (3 s) and a margin
Serve = Callable[[bool], "ServedDrill"]  # what the page may use of the drill (live notices?)


class DrillWeb:
    """The page and the intake of one drill, each started and stopped at its moment."""

    def __init__(self, options: WebOptions | None, served: Serve, clock: Clock) -> None:
        self.options = options
        self.served = served
        self.clock = clock
        self.page: RunningServer | None = None
        self.intake: RunningIntake | None = None  # the alert intake on its own port (``intake``)
        self.joined = False  # someone joined on the page (it then outlives the end a little)

    async def start_intake(self) -> None:
        if self.options is None:
            return
        from kunren.drills.serving import start_intake

        self.intake = await start_intake(self.served(False), self.options)

    def release_intake(self) -> None:
        """The drill has started: record the alerts held until now, at their arrival times."""
        if self.intake is not None:
            self.intake.release()

    async def stop_intake(self) -> None:
        if self.intake is not None:
            intake, self.intake = self.intake, None
            await intake.stop()

    async def start_page(self) -> None:
        if self.options is None:
            return
        from kunren.drills.serving import start_web

        self.page = await start_web(self.served(self.options.live_notices), self.options)

    async def stop_page(self) -> None:
        if self.page is not None:
            page, self.page = self.page, None
            await page.stop()

    async def stop_page_after_the_end(self) -> None:
        """Stop the page once the drill's end is recorded. People on the page learn of the end
        from their next poll, so with someone joined, on a clock where real time passes, the
        page stays up one poll longer (``PAGE_GRACE`` real seconds) before it stops."""
        if self.page is None:
            return
        if self.joined and not is_virtual(self.clock):
            with contextlib.suppress(Exception):
                await RealClock().sleep(PAGE_GRACE)
        with contextlib.suppress(Exception):  # the drill is over: a page that fails to stop
            await self.stop_page()  # must not hide how it ended
