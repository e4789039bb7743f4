"""Alerts matched to the drill: when each alert started firing, which were already firing at
T0, and for each fault the first alert after it and when that alert cleared.

"The first alert of any kind" said nothing: one firing since yesterday, or about something
else, made the time to alert look instant. Here an alert counts for a fault only when it
started firing after that fault was injected, and its time to clear runs from the fault's end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kunren.record.events import Alert, FaultInjected
from kunren.scorers.card import FaultAlert
from kunren.scorers.display import format_timing
from kunren.scorers.record import DrillRecord

AlertStatus = Literal["alerted", "not_alerted", "no_source", "not_injected"]


@dataclass(frozen=True)
class AlertStart:
    name: str
    at: float
    resolved_at: float | None


@dataclass(frozen=True)
class AlertStarts:
    """Each time an alert started firing (a firing after a resolve starts it again)."""

    all: list[AlertStart]
    firing_at_t0: list[str]

    def first_after(self, at: float) -> AlertStart | None:
        old = self._old(at)  # once: asked of every candidate, it made this quadratic
        return next((a for a in self.all if a.at >= at and a.name not in old), None)

    def _old(self, at: float) -> set[str]:
        return {a.name for a in self.all if a.at < at and (a.resolved_at or at + 1) > at}


def alert_key(event: Alert) -> str:
    """Which alert an event is about: one alert per (source, identity) as the intake records it
    (an Alertmanager fingerprint or label set, a PagerDuty incident, a Grafana rule and labels),
    so two instances of one rule firing apart are not merged. Older records have no identity:
    there the name was the identity."""
    identity = event.identity or event.fingerprint or event.incident
    return f"{event.name} [{identity}]" if identity and identity != event.name else event.name


def alert_starts(record: DrillRecord) -> AlertStarts:
    starts: list[AlertStart] = []
    open_at: dict[str, float] = {}
    for change in record.alerts:
        key = change.key
        if change.status == "resolved":
            began = open_at.pop(key, None)
            if began is not None:
                starts.append(AlertStart(key, began, change.at))
        elif change.status == "firing" and key not in open_at:
            open_at[key] = change.at
    starts += [AlertStart(name, at, None) for name, at in open_at.items()]
    starts.sort(key=lambda a: a.at)
    t0 = record.t0.at
    old = [a.name for a in starts if a.at < t0 and (a.resolved_at is None or a.resolved_at > t0)]
    return AlertStarts(all=starts, firing_at_t0=list(dict.fromkeys(old)))


def fault_alert(
    record: DrillRecord,
    alerts: AlertStarts,
    injected: FaultInjected | None,
    ended_at: float | None,
    ended_by: str | None,
) -> tuple[FaultAlert | None, AlertStatus]:
    """Time to alert (from the injection) and time to clear (from the revert) for one fault."""
    if injected is None:
        return None, "not_injected"
    if not alerts.all:
        return None, "no_source"
    first = alerts.first_after(injected.at)
    if first is None or first.at > record.end:
        return None, "not_alerted"
    seconds = round(first.at - injected.at, 3)
    clear = None
    if first.resolved_at is not None and ended_at is not None and ended_by != "drill_end":
        clear = round(max(0.0, first.resolved_at - ended_at), 3)
    alert = FaultAlert(
        name=first.name,
        at=first.at,
        seconds=seconds,
        display=format_timing(seconds),
        cleared_at=first.resolved_at,
        clear_seconds=clear,
        clear_display=format_timing(clear) if clear is not None else "",
    )
    return alert, "alerted"
