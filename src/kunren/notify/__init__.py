"""Customer notices in drills: templates, audiences, approval, and channels that send them.

In an outage the first notice is slow when nobody knows where the wording is, who the
customers are, or who may send; this package makes those ready beforehand and times their
use. ``NoticeService`` is the one entry point, used by ``kunren notify`` and the page alike.
"""

from __future__ import annotations

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
