"""The SNS channel: publish a notice to an Amazon SNS topic (and whatever subscribes to it).

A topic can fan out to email, SMS, queues or chat, so it is a broadcast destination like a
webhook and must be on the drill allowlist (the topic ARN, or a prefix of it) to be reached
in a drill. boto3 is imported only when a notice is published, so ``kunren`` works without
the ``aws`` extra until this channel is used.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from kunren.notify.base import Channel
from kunren.notify.message import Delivery, OutgoingNotice, Recipient, RecipientFailure

SUBJECT_LIMIT = 100  # SNS: ASCII, no line breaks, under 100 characters


class SnsParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    topic_arn: str
    region: str | None = None  # default: the region in the topic ARN
    profile: str | None = None  # default: --profile, then the usual AWS chain
    endpoint_url: str | None = None  # default: AWS_ENDPOINT_URL_SNS, then AWS_ENDPOINT_URL


def sns_subject(notice: OutgoingNotice) -> str:
    """The notice subject when SNS accepts it, else an ASCII stand-in (the full subject is
    the message's first line either way)."""
    subject = notice.subject
    if subject.isascii() and subject.isprintable() and len(subject) < SUBJECT_LIMIT:
        return subject
    return f"{notice.marker} {notice.template} notice {notice.notice}"[: SUBJECT_LIMIT - 1]


class SnsChannel(Channel):
    """Amazon SNS: publish to a topic ARN (needs the aws extra)."""

    name = "sns"
    Params = SnsParams
    extra = "aws"
    requires = ("boto3",)
    per_recipient: ClassVar[bool] = False

    @property
    def settings(self) -> SnsParams:
        assert isinstance(self.params, SnsParams)
        return self.params

    def destination(self) -> str:
        return self.settings.topic_arn

    def captured_form(self, notice: OutgoingNotice) -> str:
        return f"Subject: {sns_subject(notice)}\n\n{_message(notice)}"

    async def deliver(self, notice: OutgoingNotice, recipients: list[Recipient]) -> Delivery:
        reason = await asyncio.to_thread(self._publish, notice)
        arn = self.settings.topic_arn
        if reason:
            return Delivery(failed=[RecipientFailure(recipient=arn, reason=reason)], error=reason)
        return Delivery(delivered=[arn])

    def _client(self) -> Any:
        import boto3  # the aws extra is optional

        p = self.settings
        parts = p.topic_arn.split(":")
        region = p.region or (parts[3] if len(parts) > 3 and parts[3] else None)
        endpoint = (
            p.endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_SNS")
            or os.environ.get("AWS_ENDPOINT_URL")
        )
        session = boto3.session.Session(
            profile_name=p.profile or self.ctx.profile, region_name=region
        )
        return session.client("sns", endpoint_url=endpoint)

    def _publish(self, notice: OutgoingNotice) -> str:
        """Publish; returns "" on success, else why it failed."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client().publish(
                TopicArn=self.settings.topic_arn,
                Subject=sns_subject(notice),
                Message=_message(notice),
                MessageAttributes={
                    "kunren.drill": {"DataType": "String", "StringValue": notice.drill or "-"},
                    "kunren.notice": {"DataType": "String", "StringValue": notice.notice},
                },
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            return f"{error.get('Code', 'error')}: {error.get('Message', str(exc))}"
        except BotoCoreError as exc:
            return str(exc)
        return ""


def _message(notice: OutgoingNotice) -> str:
    return f"{notice.subject}\n\n{notice.body}"
