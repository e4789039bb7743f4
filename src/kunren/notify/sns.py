"""The SNS channel: publish a notice to an Amazon SNS topic (and whatever subscribes to it).

A topic can fan out to email, SMS, queues or chat, so it is a broadcast destination like a
webhook and must be on the drill allowlist (the topic ARN, or a prefix of it) to be reached
in a drill. It publishes through the drill's shared AWS sessions and error seam
(``kunren.runtime.aws_session``), like the AWS faults and the CloudWatch probe; boto3 is
imported only when a notice is published, so ``kunren`` works without the ``aws`` extra until
this channel is used.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from kunren.errors import KunrenError
from kunren.notify.base import Channel
from kunren.notify.message import Delivery, OutgoingNotice, Recipient, RecipientFailure
from kunren.runtime.aws_errors import describe_failure
from kunren.runtime.aws_session import AwsScope, aws_sessions, scope_for

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


class SnsChannel(Channel[SnsParams]):
    """Amazon SNS: publish to a topic ARN (needs the aws extra)."""

    name = "sns"
    extra = "aws"
    requires = ("boto3",)
    per_recipient: ClassVar[bool] = False

    def destination(self) -> str:
        return self.params.topic_arn

    def captured_form(self, notice: OutgoingNotice) -> str:
        return f"Subject: {sns_subject(notice)}\n\n{_message(notice)}"

    def scope(self) -> AwsScope:
        """The channel's own settings first, then the topic ARN's region, then ``--profile``."""
        p = self.params
        parts = p.topic_arn.split(":")
        region = p.region or (parts[3] if len(parts) > 3 and parts[3] else None)
        scope = scope_for(self.ctx, None, region=region, profile=p.profile)
        return AwsScope(scope.profile, scope.region, p.endpoint_url)

    async def deliver(self, notice: OutgoingNotice, recipients: list[Recipient]) -> Delivery:
        arn = self.params.topic_arn
        try:
            await aws_sessions(self.ctx).call(
                "sns",
                self.scope(),
                "publish",
                resource=f"topic {arn}",
                TopicArn=arn,
                Subject=sns_subject(notice),
                Message=_message(notice),
                MessageAttributes={
                    "kunren.drill": {"DataType": "String", "StringValue": notice.drill or "-"},
                    "kunren.notice": {"DataType": "String", "StringValue": notice.notice},
                },
            )
        except KunrenError as exc:
            # The AWS answer itself (``NotFound: Topic does not exist``) is the reason recorded
            # for the topic; the seam's longer line would only repeat the topic.
            reason = describe_failure(exc.__cause__) if exc.__cause__ is not None else str(exc)
            return Delivery(failed=[RecipientFailure(recipient=arn, reason=reason)], error=reason)
        return Delivery(delivered=[arn])


def _message(notice: OutgoingNotice) -> str:
    return f"{notice.subject}\n\n{notice.body}"
