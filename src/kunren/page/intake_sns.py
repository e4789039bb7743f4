"""CloudWatch alarms through Amazon SNS: the envelope, its signature, and the alarm inside.

SNS posts JSON to an HTTP subscriber: first a ``SubscriptionConfirmation`` (whose
``SubscribeURL`` must be visited before anything else is delivered), then ``Notification``s
whose ``Message`` is the CloudWatch alarm as a JSON string. Anyone who learns the intake's
address could post such an envelope, so every message's signature is checked against a
certificate the team configured (``intake.sns_certificate``: SNS's signing certificate,
downloaded once from the ``SigningCertURL`` of a genuine message). kunren never fetches a
certificate named in the message itself: that would let the sender choose who vouches for it.

Formats: docs.aws.amazon.com/sns/latest/dg/http-notification-json.html and
.../sns-verify-signature-of-message.html (the string to sign, SignatureVersion 1: SHA1withRSA,
2: SHA256withRSA); the alarm's JSON: CloudWatch's "Using Amazon SNS" page and the testdata of
aws/aws-lambda-go.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from pydantic import Field

from kunren.factories import new_dict
from kunren.page.intake import (
    AlertStatus,
    IntakeError,
    IntakeItem,
    Loose,
    alert_name,
    parse_time,
    validate,
)

_CLOUDWATCH_STATUS: dict[str, AlertStatus] = {"ALARM": "firing", "OK": "resolved"}


class SnsEnvelope(Loose):
    Type: str  # SNS spells its fields so
    MessageId: str
    TopicArn: str
    Message: str
    Timestamp: str
    SignatureVersion: str = "1"
    Signature: str = ""
    Subject: str | None = None
    Token: str | None = None
    SubscribeURL: str | None = None


class CloudWatchAlarm(Loose):
    AlarmName: str
    AlarmDescription: str | None = None
    AWSAccountId: str = ""
    NewStateValue: str
    NewStateReason: str = ""
    StateChangeTime: str = ""
    Region: str = ""
    AlarmArn: str = ""
    Trigger: dict[str, object] = Field(default_factory=new_dict)


@dataclass(frozen=True)
class SnsConfirmation:
    """A subscription waiting to be confirmed by visiting ``subscribe_url``."""

    topic: str
    subscribe_url: str


def parse_sns(body: bytes, certificate: bytes | None) -> SnsConfirmation | list[IntakeItem]:
    """The confirmation to visit, or the alarm's items (none for INSUFFICIENT_DATA or an
    ``UnsubscribeConfirmation``). Raises IntakeError for a bad or unsigned message."""
    envelope = validate(SnsEnvelope, body)
    if certificate is None:
        raise IntakeError(
            "SNS messages are refused until intake.sns_certificate names SNS's signing "
            "certificate (a PEM file)"
        )
    if not verify_signature(envelope, certificate):
        raise IntakeError("the SNS message signature does not match intake.sns_certificate")
    match envelope.Type:
        case "SubscriptionConfirmation":
            if not envelope.SubscribeURL:
                raise IntakeError("SubscribeURL: Field required")
            return SnsConfirmation(envelope.TopicArn, envelope.SubscribeURL)
        case "Notification":
            return _alarm_items(envelope)
        case "UnsubscribeConfirmation":
            return []
        case other:
            raise IntakeError(f"Type: unknown SNS message type {other[:40]!r}")


def _alarm_items(envelope: SnsEnvelope) -> list[IntakeItem]:
    try:
        alarm = CloudWatchAlarm.model_validate_json(envelope.Message)
    except ValueError as exc:
        raise IntakeError("Message: not a CloudWatch alarm (AlarmName, NewStateValue)") from exc
    status = _CLOUDWATCH_STATUS.get(alarm.NewStateValue.upper())
    if status is None:
        return []  # INSUFFICIENT_DATA: the alarm does not know, which is no state change
    identity = alarm.AlarmArn or f"{alarm.AWSAccountId}/{alarm.Region}/{alarm.AlarmName}"
    labels = {"account": alarm.AWSAccountId, "region": alarm.Region}
    for name in ("Namespace", "MetricName"):
        value = alarm.Trigger.get(name)
        if isinstance(value, str):
            labels[name.lower()] = value[:200]
    changed = parse_time(alarm.StateChangeTime)
    return [
        IntakeItem(
            "cloudwatch",
            alert_name(alarm.AlarmName),
            status,
            identity=identity[:200],
            labels={k: v for k, v in labels.items() if v},
            starts_at=changed.isoformat() if changed and status == "firing" else None,
            ends_at=changed.isoformat() if changed and status == "resolved" else None,
            changed_at=changed,
        )
    ]


def string_to_sign(envelope: SnsEnvelope) -> bytes:
    """SNS's canonical form: ``Key\\nvalue\\n`` for the signed keys, in this order."""
    if envelope.Type == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    values = envelope.model_dump()
    return "".join(
        f"{key}\n{values[key]}\n" for key in keys if values.get(key) is not None
    ).encode()


def verify_signature(envelope: SnsEnvelope, certificate: bytes) -> bool:
    """True when ``Signature`` is SNS's RSA signature under ``certificate`` (PEM)."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(envelope.SignatureVersion)
    if algorithm is None or not envelope.Signature:
        return False
    try:
        key = x509.load_pem_x509_certificate(certificate).public_key()
        signature = base64.b64decode(envelope.Signature, validate=True)
    except ValueError:
        return False
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signature, string_to_sign(envelope), padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        return False
    return True
