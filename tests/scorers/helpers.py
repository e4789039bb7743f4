"""Small builders for scorer tests: a scenario from a dict, a record from events."""

from __future__ import annotations

from typing import Any

from kunren.record.events import (
    DrillEnded,
    DrillStarted,
    Event,
    FaultInjected,
    FaultInjecting,
    Runbook,
)
from kunren.scenarios.models import Scenario

BASE: dict[str, Any] = {
    "version": 1,
    "id": "web-outage",
    "title": "Web outage",
    "duration": "60m",
    "roles": {"sre": {"min": 1}, "support": {"min": 2}, "commander": {}},
    "objectives": {
        "detected": {"within": "5m"},
        "customer_notified": {"within": "30m", "by": "support"},
    },
}


def scenario(**changes: Any) -> Scenario:
    return Scenario.model_validate({**BASE, **changes})


def record(*events: Event, end: float | None = 3600.0, fault_at: float | None = 0.0) -> list[Event]:
    """drill.started, an optional first fault, ``events`` and drill.ended, with seqs 1, 2, …"""
    body: list[Event] = [DrillStarted(drill="d1", scenario_id="web-outage", duration=3600.0)]
    if fault_at is not None:
        body.append(FaultInjected(at=fault_at, fault="kill-web", kind="process.kill"))
    body += list(events)
    if end is not None:
        body.append(DrillEnded(at=end))
    return [event.model_copy(update={"seq": number}) for number, event in enumerate(body, 1)]


def runbook_restart() -> list[Event]:
    """What the team running the ``restart-web`` runbook at 10 min records: the run, then the
    fault it drives (a restart by people, not a fault the scenario injects)."""
    fault, kind = "runbook:restart-web", "process.restart"
    return [
        Runbook(at=600, runbook="restart-web", actor="erin", role="sre"),
        FaultInjecting(at=600, fault=fault, kind=kind, runbook="restart-web", target="web"),
        FaultInjected(at=601, fault=fault, kind=kind),
    ]
