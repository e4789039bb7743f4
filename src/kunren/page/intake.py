"""Alerts from monitoring into the drill record: Alertmanager, PagerDuty v3 and plain JSON.

Time to detect is measured against whoever noticed first: monitoring, staff or a customer. So
the drill server accepts the alerting tools' own webhooks and turns each into ``alert`` events
(``firing`` / ``acknowledged`` / ``resolved``); an acknowledgement also counts as the
``acknowledged`` milestone of the person who acknowledged. This module only reads payloads;
the route in ``app`` decides what to record.

Payload shapes follow the tools' documentation: Alertmanager's webhook ``version: "4"``
(prometheus.io/docs/alerting/latest/configuration/#webhook_config) and PagerDuty's v3 webhook
(``event.event_type`` ``incident.triggered`` / ``.acknowledged`` / ``.resolved``…).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kunren.page.security import FieldError, clean_name, clean_note

M = TypeVar("M", bound=BaseModel)
AlertStatus = Literal["firing", "acknowledged", "resolved"]
SOURCES: tuple[str, ...] = ("alertmanager", "pagerduty", "generic")
MAX_ALERT_NAME = 200


class IntakeError(ValueError):
    """A payload that is not what its endpoint accepts (answered with 400)."""


@dataclass(frozen=True)
class IntakeItem:
    source: str
    name: str
    status: AlertStatus
    actor: str | None = None


class _Loose(BaseModel):
    # The tools add fields over time; we read what we need and ignore the rest.
    model_config = ConfigDict(extra="ignore", frozen=True)


class AlertmanagerAlert(_Loose):
    status: str
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    fingerprint: str = ""


class AlertmanagerPayload(_Loose):
    version: str = "4"
    status: str = "firing"
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)  # Alertmanager spells it so
    alerts: list[AlertmanagerAlert]


class PagerDutyReference(_Loose):
    id: str = ""
    type: str = ""
    summary: str = ""


class PagerDutyData(_Loose):
    id: str = ""
    type: str = ""
    number: int | None = None
    title: str = ""
    summary: str = ""
    status: str = ""


class PagerDutyEvent(_Loose):
    id: str = ""
    event_type: str
    resource_type: str = ""
    occurred_at: str = ""
    agent: PagerDutyReference | None = None
    data: PagerDutyData = PagerDutyData()


class PagerDutyPayload(_Loose):
    event: PagerDutyEvent


class GenericAlert(_Loose):
    name: str = Field(min_length=1)
    status: str = "firing"
    actor: str | None = None


_PAGERDUTY_STATUS: dict[str, AlertStatus] = {
    "incident.triggered": "firing",
    "incident.reopened": "firing",
    "incident.unacknowledged": "firing",
    "incident.acknowledged": "acknowledged",
    "incident.resolved": "resolved",
}

_GENERIC_STATUS: dict[str, AlertStatus] = {
    "firing": "firing",
    "triggered": "firing",
    "trigger": "firing",
    "acknowledged": "acknowledged",
    "ack": "acknowledged",
    "acknowledge": "acknowledged",
    "resolved": "resolved",
    "resolve": "resolved",
    "ok": "resolved",
}


def parse(source: str, body: bytes) -> list[IntakeItem]:
    """The alerts in ``body`` as sent to the ``source`` endpoint."""
    if source == "alertmanager":
        return parse_alertmanager(body)
    if source == "pagerduty":
        return parse_pagerduty(body)
    if source == "generic":
        return parse_generic(body)
    raise IntakeError(f"unknown alert source {source!r}")


def parse_alertmanager(body: bytes) -> list[IntakeItem]:
    payload = _validate(AlertmanagerPayload, body)
    items = []
    for alert in payload.alerts:
        if alert.status not in ("firing", "resolved"):
            raise IntakeError(f"alert status must be firing or resolved, got {alert.status!r}")
        name = alert.labels.get("alertname") or payload.groupLabels.get("alertname") or "alert"
        status: AlertStatus = "firing" if alert.status == "firing" else "resolved"
        items.append(IntakeItem("alertmanager", _alert_name(name), status))
    return items


def parse_pagerduty(body: bytes) -> list[IntakeItem]:
    """Incident state changes; other event types (notes, priority…) carry no timing: []."""
    event = _validate(PagerDutyPayload, body).event
    status = _PAGERDUTY_STATUS.get(event.event_type)
    if status is None:
        return []
    data = event.data
    name = data.title or data.summary or (f"incident {data.number}" if data.number else data.id)
    actor = _actor(event.agent.summary) if event.agent is not None else None
    return [IntakeItem("pagerduty", _alert_name(name or "incident"), status, actor)]


def parse_generic(body: bytes) -> list[IntakeItem]:
    """``{"name": ..., "status": "firing|acknowledged|resolved", "actor": ...}``."""
    alert = _validate(GenericAlert, body)
    status = _GENERIC_STATUS.get(alert.status.strip().lower())
    if status is None:
        raise IntakeError(
            f"status must be firing, acknowledged or resolved, got {alert.status[:40]!r}"
        )
    actor = _actor(alert.actor) if alert.actor else None
    return [IntakeItem("generic", _alert_name(alert.name), status, actor)]


def verify_pagerduty_signature(body: bytes, header: str | None, secret: str) -> bool:
    """PagerDuty's ``X-PagerDuty-Signature``: ``v1=<hex HMAC-SHA256 of the raw body>``, one
    or more comma-separated (several during a secret rotation)."""
    if not header:
        return False
    expected = "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, part.strip()) for part in header.split(","))


def _validate(model: type[M], body: bytes) -> M:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise IntakeError(f"{where}: {error['msg']}" if where else str(error["msg"])) from exc


def _alert_name(raw: str) -> str:
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
