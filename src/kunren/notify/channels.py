"""The built-in channels, at the module path their entry points name (pyproject.toml).

Each lives in its own module; this one only gathers them so ``kunren.channels`` entry points
stay ``kunren.notify.channels:<Class>`` like a third-party plugin's would. The names are
resolved lazily (PEP 562): loading the ``email`` channel imports ``smtp`` alone, not the
webhook, SNS and status page modules beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kunren import lazy

if TYPE_CHECKING:
    from kunren.notify.base import Channel
    from kunren.notify.capture import CaptureChannel
    from kunren.notify.smtp import EmailChannel
    from kunren.notify.sns import SnsChannel
    from kunren.notify.statuspage import StatusPageChannel
    from kunren.notify.webhooks import SlackChannel, WebhookChannel

_EXPORTS: dict[str, str] = {
    "CaptureChannel": "kunren.notify.capture",
    "Channel": "kunren.notify.base",
    "EmailChannel": "kunren.notify.smtp",
    "SlackChannel": "kunren.notify.webhooks",
    "SnsChannel": "kunren.notify.sns",
    "StatusPageChannel": "kunren.notify.statuspage",
    "WebhookChannel": "kunren.notify.webhooks",
}

__all__ = [
    "CaptureChannel",
    "Channel",
    "EmailChannel",
    "SlackChannel",
    "SnsChannel",
    "StatusPageChannel",
    "WebhookChannel",
]


def __getattr__(name: str) -> Any:
    return lazy.resolve(globals(), _EXPORTS, name)


def __dir__() -> list[str]:
    return sorted(__all__)
