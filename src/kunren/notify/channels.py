"""Notification channels. Placeholder until the notification work lands."""

from __future__ import annotations

from kunren.plugins import Plugin


class _NotBuilt(Plugin):
    available = False


class CaptureChannel(_NotBuilt):
    pass


class EmailChannel(_NotBuilt):
    pass


class SlackChannel(_NotBuilt):
    pass


class WebhookChannel(_NotBuilt):
    pass


class SnsChannel(_NotBuilt):
    extra = "aws"
    requires = ("boto3",)


class StatusPageChannel(_NotBuilt):
    pass
