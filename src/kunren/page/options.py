"""How the participant page is served and how it behaves: plain options, no web framework.

Kept apart from the app so the conductor and the CLI can hold them (``kunren run --bind
--port``) without importing starlette.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kunren.page.security import MAX_BODY


@dataclass(frozen=True)
class AppOptions:
    """How the app behaves; the defaults suit a drill on one machine."""

    pagerduty_secret: str | None = None  # also require PagerDuty's signature on its intake
    intake_token: str | None = None  # monitoring's own token for /intake/… (kunren.page.alerts)
    sns_certificate: bytes | None = None  # SNS's signing certificate (PEM) for /intake/sns
    poll_seconds: float = 3.0  # how often a page polls when it cannot hold a stream
    max_body: int = MAX_BODY
    keepalive_seconds: float = 15.0  # a comment on an idle stream, so proxies keep it open
    watch_seconds: float = 0.25  # how often open streams look for others' writes to the record
    stream_wait_seconds: float = 10.0  # no first state by then: a buffering proxy, so poll


@dataclass(frozen=True)
class WebOptions:
    """Where a running drill serves its page (``kunren run --bind/--port/--allow-remote``);
    ``announce`` is given each line to show (the page's links, unless ``on_links`` takes them as
    an object: the CLI draws the join link as a QR code from it)."""

    host: str = "127.0.0.1"
    port: int = 8765
    allow_remote: bool = False
    announce: Callable[[str], Any] | None = None
    on_links: Callable[[WebLinks], Any] | None = None
    pagerduty_secret: str | None = None  # else $KUNREN_PAGERDUTY_SECRET, if set
    live_notices: bool = False  # notices from the page reach real audiences (else captured)


@dataclass(frozen=True)
class WebLinks:
    """The addresses to hand out: the page's carry the token they need."""

    join: str  # participants (participant token)
    facilitator: str  # the facilitator view (facilitator token)
    alertmanager: str  # alert intake endpoints (no token: the intake token goes in a header)
    pagerduty: str
    generic: str
