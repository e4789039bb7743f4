"""Customer notices in drills: templates, audiences, approval, and channels that send them.

In an outage the first notice is slow when nobody knows where the wording is, who the
customers are, or who may send; this package makes those ready beforehand and times their
use. ``NoticeService`` is the one entry point, used by ``kunren notify`` and the page alike.

The names below are resolved lazily (PEP 562): a scenario's channels are checked by
``kunren validate`` through ``kunren.notify.channels`` without importing the service, its
templates (jinja2) and the record's events, which only drills and ``kunren notify`` use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kunren import lazy

if TYPE_CHECKING:
    from kunren.notify.audiences import Audience, AudienceInfo
    from kunren.notify.base import Channel
    from kunren.notify.drafts import (
        ChannelResult,
        NoticeDraft,
        NoticeRequest,
        NoticeState,
        Preview,
        SendResult,
    )
    from kunren.notify.message import (
        DRILL_MARKER,
        Delivery,
        OutgoingNotice,
        Recipient,
        RecipientFailure,
    )
    from kunren.notify.safety import Allowlist
    from kunren.notify.service import NoticeService
    from kunren.notify.templates import TemplateInfo, TemplateWarning

_EXPORTS: dict[str, str] = {
    "Allowlist": "kunren.notify.safety",
    "Audience": "kunren.notify.audiences",
    "AudienceInfo": "kunren.notify.audiences",
    "Channel": "kunren.notify.base",
    "ChannelResult": "kunren.notify.drafts",
    "DRILL_MARKER": "kunren.notify.message",
    "Delivery": "kunren.notify.message",
    "NoticeDraft": "kunren.notify.drafts",
    "NoticeRequest": "kunren.notify.drafts",
    "NoticeService": "kunren.notify.service",
    "NoticeState": "kunren.notify.drafts",
    "OutgoingNotice": "kunren.notify.message",
    "Preview": "kunren.notify.drafts",
    "Recipient": "kunren.notify.message",
    "RecipientFailure": "kunren.notify.message",
    "SendResult": "kunren.notify.drafts",
    "TemplateInfo": "kunren.notify.templates",
    "TemplateWarning": "kunren.notify.templates",
}

__all__ = [
    "DRILL_MARKER",
    "Allowlist",
    "Audience",
    "AudienceInfo",
    "Channel",
    "ChannelResult",
    "Delivery",
    "NoticeDraft",
    "NoticeRequest",
    "NoticeService",
    "NoticeState",
    "OutgoingNotice",
    "Preview",
    "Recipient",
    "RecipientFailure",
    "SendResult",
    "TemplateInfo",
    "TemplateWarning",
]


def __getattr__(name: str) -> Any:
    return lazy.resolve(globals(), _EXPORTS, name)


def __dir__() -> list[str]:
    return sorted(__all__)
