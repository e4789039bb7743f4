"""Alerts from monitoring into the drill record: what each tool's webhook says, read as items.

Time to detect is measured against whoever noticed first: monitoring, staff or a customer. So
the intake accepts the alerting tools' own webhooks and turns each into items (``firing`` /
``acknowledged`` / ``resolved``) that keep what tells alerts apart: two alerts named alike on
two instances are two identities (Alertmanager's fingerprint or sorted label set, Grafana's
rule and labels, a PagerDuty incident id, an Opsgenie alert id), and each keeps its labels,
its source URL and the source's own times beside its arrival. This module only reads
payloads; ``alerts`` decides what to record. CloudWatch through SNS is read in ``intake_sns``.

Payload shapes follow the tools' documentation: Alertmanager's webhook ``version: "4"``
(prometheus.io/docs/alerting/latest/configuration/#webhook_config), Grafana alerting's
webhook notifier (the same shape plus ``orgId``), PagerDuty's v3 webhook (``event.event_type``
``incident.triggered`` / ``.acknowledged`` / ``.resolved``…), Opsgenie's webhook integration
(``action`` ``Create`` / ``Acknowledge`` / ``Close``…).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kunren.factories import new_dict, new_list
from kunren.page.security import FieldError, clean_name, clean_note

M = TypeVar("M", bound=BaseModel)
AlertStatus = Literal["firing", "acknowledged", "resolved"]
SOURCES: tuple[str, ...] = ("alertmanager", "grafana", "pagerduty", "opsgenie", "sns", "generic")
MAX_ALERT_NAME = 200
MAX_LABELS = 50
MAX_LABEL_VALUE = 200
_ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time: Alertmanager's "not ended"


class IntakeError(ValueError):
    """A payload that is not what its endpoint accepts (answered with 400)."""


@dataclass(frozen=True)
class IntakeItem:
    """One alert's state as a payload gave it; ``identity`` tells it from its namesakes."""

    source: str
    name: str
    status: AlertStatus
    actor: str | None = None
    identity: str = ""
    fingerprint: str | None = None
    incident: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    starts_at: str | None = None
    ends_at: str | None = None
    changed_at: datetime | None = None  # when the source says this change happened

    @property
    def key(self) -> str:
        return self.identity or self.name


class Loose(BaseModel):
    # The tools add fields over time; we read what we need and ignore the rest.
    model_config = ConfigDict(extra="ignore", frozen=True)


class AlertmanagerAlert(Loose):
    status: str
    labels: dict[str, str] = Field(default_factory=new_dict)
    annotations: dict[str, str] = Field(default_factory=new_dict)
    startsAt: str = ""  # Alertmanager spells them so
    endsAt: str = ""
    generatorURL: str = ""
    fingerprint: str = ""


class AlertmanagerPayload(Loose):
    version: str = "4"
    status: str = "firing"
    receiver: str = ""
    orgId: int | None = None  # only Grafana sends it
    groupLabels: dict[str, str] = Field(default_factory=new_dict)
    alerts: list[AlertmanagerAlert]


class PagerDutyReference(Loose):
    id: str = ""
    type: str = ""
    summary: str = ""


class PagerDutyData(Loose):
    id: str = ""
    type: str = ""
    number: int | None = None
    title: str = ""
    summary: str = ""
    status: str = ""
    html_url: str = ""
    created_at: str = ""


class PagerDutyEvent(Loose):
    id: str = ""
    event_type: str
    resource_type: str = ""
    occurred_at: str = ""
    agent: PagerDutyReference | None = None
    data: PagerDutyData = PagerDutyData()


class PagerDutyPayload(Loose):
    event: PagerDutyEvent


class OpsgenieAlert(Loose):
    alertId: str = ""
    message: str = ""
    alias: str = ""
    tinyId: str = ""
    username: str = ""
    tags: list[str] = Field(default_factory=new_list)
    createdAt: int | None = None  # epoch milliseconds


class OpsgeniePayload(Loose):
    action: str
    alert: OpsgenieAlert


class GenericAlert(Loose):
    name: str
    status: str = "firing"
    actor: str | None = None
    id: str | None = None  # the sender's own identity; else the name is the identity
    labels: dict[str, str] = Field(default_factory=new_dict)
    url: str | None = None
    starts_at: str | None = None

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


_PAGERDUTY_STATUS: dict[str, AlertStatus] = {
    "incident.triggered": "firing",
    "incident.reopened": "firing",
    "incident.unacknowledged": "firing",
    "incident.acknowledged": "acknowledged",
    "incident.resolved": "resolved",
}

_OPSGENIE_STATUS: dict[str, AlertStatus] = {
    "create": "firing",
    "unacknowledge": "firing",
    "acknowledge": "acknowledged",
    "close": "resolved",
}

# The words tools put in a status field, normalised (lower case, one space): Prometheus and
# Grafana (firing, alerting, no data), Datadog (Triggered, Re-Triggered, Recovered, Warn, No
# Data), Zabbix and Nagios (PROBLEM, RECOVERY, OK), CloudWatch (ALARM, OK), New Relic
# (ACTIVATED, ACKNOWLEDGED, CLOSED), PagerDuty's Events API (trigger, acknowledge, resolve).
STATUS_WORDS: dict[str, AlertStatus] = {
    **dict.fromkeys(
        [
            "firing", "triggered", "trigger", "re triggered", "retriggered", "alert",
            "alerting", "alarm", "problem", "critical", "warning", "warn", "no data",
            "nodata", "open", "opened", "activated", "active", "created",
        ],
        "firing",
    ),
    **dict.fromkeys(["acknowledged", "acknowledge", "ack", "acked"], "acknowledged"),
    **dict.fromkeys(
        [
            "resolved", "resolve", "ok", "recovered", "recovery", "closed", "close",
            "normal", "deactivated", "inactive",
        ],
        "resolved",
    ),
}  # fmt: skip


def status_word(raw: str) -> AlertStatus | None:
    """``Re-Triggered`` → firing, ``RECOVERY`` → resolved…; None for a word we do not know."""
    return STATUS_WORDS.get(" ".join(re.split(r"[\s_-]+", raw.strip().lower())))


def parse(source: str, body: bytes) -> list[IntakeItem]:
    """The alerts in ``body`` as sent to the ``source`` endpoint (not ``sns``: see
    ``intake_sns``, which needs the certificate)."""
    if source in ("alertmanager", "grafana"):
        return parse_alertmanager(body, grafana=source == "grafana")
    if source == "pagerduty":
        return parse_pagerduty(body)
    if source == "opsgenie":
        return parse_opsgenie(body)
    if source == "generic":
        return parse_generic(body)
    raise IntakeError(f"unknown alert source {source!r}")


def parse_alertmanager(body: bytes, *, grafana: bool = False) -> list[IntakeItem]:
    """Alertmanager's webhook, or Grafana's (same shape, with ``orgId``): one item an alert."""
    payload = validate(AlertmanagerPayload, body)
    source = "grafana" if grafana or payload.orgId is not None else "alertmanager"
    items = []
    for alert in payload.alerts:
        if alert.status not in ("firing", "resolved"):
            raise IntakeError(f"alert status must be firing or resolved, got {alert.status!r}")
        name = alert.labels.get("alertname") or payload.groupLabels.get("alertname") or "alert"
        status: AlertStatus = "firing" if alert.status == "firing" else "resolved"
        labels = clean_labels(alert.labels)
        identity = alert.fingerprint or label_identity(labels)
        if source == "grafana":
            identity = f"{_grafana_rule(alert.generatorURL)}/{identity}"
        starts_at = alert.startsAt or None
        ends_at = alert.endsAt if status == "resolved" and alert.endsAt != _ZERO_TIME else None
        items.append(
            IntakeItem(
                source,
                alert_name(name),
                status,
                identity=identity[:MAX_ALERT_NAME],
                fingerprint=alert.fingerprint or None,
                labels=labels,
                url=alert.generatorURL or None,
                starts_at=starts_at,
                ends_at=ends_at,
                changed_at=parse_time(ends_at if status == "resolved" else starts_at),
            )
        )
    return items


def parse_pagerduty(body: bytes) -> list[IntakeItem]:
    """Incident state changes, keyed by incident id (a renamed incident is still itself);
    other event types (notes, priority…) carry no timing: []."""
    event = validate(PagerDutyPayload, body).event
    status = _PAGERDUTY_STATUS.get(event.event_type)
    if status is None:
        return []
    data = event.data
    name = data.title or data.summary or (f"incident {data.number}" if data.number else data.id)
    # Only a user is a person: a service or an integration acknowledging is nobody's milestone.
    agent = event.agent
    person = agent is not None and agent.type in ("user", "user_reference")
    actor = _actor(agent.summary) if person and agent is not None else None
    return [
        IntakeItem(
            "pagerduty",
            alert_name(name or "incident"),
            status,
            actor,
            identity=data.id,
            incident=data.id or None,
            url=data.html_url or None,
            starts_at=data.created_at or None,
            changed_at=parse_time(event.occurred_at),
        )
    ]


def parse_opsgenie(body: bytes) -> list[IntakeItem]:
    """Opsgenie's webhook integration: Create / Acknowledge / UnAcknowledge / Close, keyed by
    alert id; notes, tags and other actions carry no timing: []."""
    payload = validate(OpsgeniePayload, body)
    status = _OPSGENIE_STATUS.get(payload.action.strip().lower())
    if status is None:
        return []
    alert = payload.alert
    identity = alert.alertId or alert.alias or alert.tinyId
    if not identity:
        raise IntakeError("alert.alertId: Field required")
    # On an Acknowledge the username is who acknowledged; "System" or an integration is not.
    who = alert.username if status == "acknowledged" else ""
    actor = _actor(who) if who and who.lower() not in ("system", "opsgenie") else None
    created = (
        datetime.fromtimestamp(alert.createdAt / 1000, UTC) if alert.createdAt is not None else None
    )
    return [
        IntakeItem(
            "opsgenie",
            alert_name(alert.message or alert.alias or identity),
            status,
            actor,
            identity=identity,
            incident=alert.alertId or None,
            labels={f"tag:{tag}": "" for tag in alert.tags[:MAX_LABELS]},
            starts_at=created.isoformat() if created is not None else None,
            changed_at=created if status == "firing" else None,
        )
    ]


def parse_generic(body: bytes) -> list[IntakeItem]:
    """``{"name": ..., "status": "firing|acknowledged|resolved", "actor": ..., "id": ...}``;
    the status may be any word in ``STATUS_WORDS``."""
    alert = validate(GenericAlert, body)
    status = status_word(alert.status)
    if status is None:
        raise IntakeError(
            "status must be firing, acknowledged or resolved (or a word such as ALARM, "
            f"PROBLEM, Recovered, OK), got {alert.status[:40]!r}"
        )
    actor = _actor(alert.actor) if alert.actor else None
    name = alert_name(alert.name)
    return [
        IntakeItem(
            "generic",
            name,
            status,
            actor,
            identity=(alert.id or name)[:MAX_ALERT_NAME],
            labels=clean_labels(alert.labels),
            url=alert.url,
            starts_at=alert.starts_at,
            changed_at=parse_time(alert.starts_at) if status == "firing" else None,
        )
    ]


def verify_pagerduty_signature(body: bytes, header: str | None, secret: str) -> bool:
    """PagerDuty's ``X-PagerDuty-Signature``: ``v1=<hex HMAC-SHA256 of the raw body>``, one
    or more comma-separated (several during a secret rotation)."""
    if not header:
        return False
    expected = "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, part.strip()) for part in header.split(","))


def label_identity(labels: Mapping[str, str]) -> str:
    """The identity of an alert sent without a fingerprint: its sorted label set, hashed."""
    text = "\n".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return "labels:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def clean_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """Labels as recorded: at most 50, each value at most 200 characters, controls dropped."""
    cleaned = {}
    for key in sorted(labels)[:MAX_LABELS]:
        try:
            cleaned[clean_note(key, MAX_LABEL_VALUE)] = clean_note(
                labels[key][:MAX_LABEL_VALUE], MAX_LABEL_VALUE
            )
        except FieldError:
            continue
    return cleaned


def parse_time(raw: str | None) -> datetime | None:
    """An ISO 8601 time from a payload (``Z``, ``+0000`` and nanoseconds included)."""
    if not raw or raw == _ZERO_TIME:
        return None
    text = raw.strip().replace("Z", "+00:00")
    text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)  # CloudWatch's +0000
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # Go's nanoseconds
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _grafana_rule(url: str) -> str:
    # Grafana's generatorURL names the rule: /alerting/<uid>/edit or /alerting/grafana/<uid>/view
    found = re.search(r"/alerting/(?:grafana/)?([^/?#]+)/(?:edit|view)", url)
    return found.group(1) if found else "rule"


def validate(model: type[M], body: bytes) -> M:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        raise IntakeError(f"{where}: {message}" if where else message) from exc


def alert_name(raw: str) -> str:
    name = " ".join(raw.split())
    try:
        return clean_note(name[:MAX_ALERT_NAME], MAX_ALERT_NAME) or "alert"
    except FieldError:
        return "alert"


def _actor(raw: str) -> str | None:
    try:
        return clean_name(raw[:80])
    except FieldError:
        return None
