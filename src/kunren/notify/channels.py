"""The built-in channels, at the module path their entry points name (pyproject.toml).

Each lives in its own module; this one only gathers them so ``kunren.channels`` entry points
stay ``kunren.notify.channels:<Class>`` like a third-party plugin's would.
"""

from __future__ import annotations

from kunren.notify.base import Channel
from kunren.notify.capture import CaptureChannel
from kunren.notify.smtp import EmailChannel
from kunren.notify.sns import SnsChannel
from kunren.notify.statuspage import StatusPageChannel
from kunren.notify.webhooks import SlackChannel, WebhookChannel

__all__ = [
    "CaptureChannel",
    "Channel",
    "EmailChannel",
    "SlackChannel",
    "SnsChannel",
    "StatusPageChannel",
    "WebhookChannel",
]
