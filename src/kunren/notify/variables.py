"""The values a notice template can use, gathered from the drill, the scenario and the sender.

Later sources win: what the drill knows (``drill_id``, ``start_time``, ``now``…), then the
scenario's ``notifications.variables`` (service name, affected features, workaround), then what
the sender typed. ``next_update_in: 30m`` turns into ``next_update_time`` counted from now, so
a scenario can make "the next update within 30 minutes" the default for every notice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from kunren.durations import parse_duration
from kunren.errors import InputError, Problem
from kunren.notify.message import DRILL_MARKER
from kunren.record.events import DrillStarted, Event, FaultInjected, ProbeFailed
from kunren.scenarios.models import Scenario

TIME_FORMAT = "%Y-%m-%d %H:%M"
NEXT_UPDATE_FORMAT = "%H:%M"
BUILTIN_VARIABLES: tuple[str, ...] = (
    "drill_id",
    "scenario_title",
    "start_time",
    "now",
    "marker",
    "next_update_time",
)


def impact_start(events: Sequence[Event]) -> datetime | None:
    """Wall time the outage began as the record sees it: first probe failure, else first
    injected fault, else drill start."""
    for kind in (ProbeFailed, FaultInjected, DrillStarted):
        first = next((e for e in events if isinstance(e, kind) and e.wall), None)
        if first is not None:
            return datetime.fromisoformat(first.wall)
    return None


def drill_id(events: Sequence[Event]) -> str:
    started = next((e for e in events if isinstance(e, DrillStarted)), None)
    return started.drill if started is not None else ""


def gather(
    scenario: Scenario,
    events: Sequence[Event],
    now: datetime,
    given: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Every value a template may use, in precedence order (drill < scenario < given)."""
    values: dict[str, str] = {
        "drill_id": drill_id(events),
        "scenario_title": scenario.title,
        "now": now.strftime(TIME_FORMAT),
        "marker": DRILL_MARKER,
    }
    started = impact_start(events)
    if started is not None:
        values["start_time"] = started.strftime(TIME_FORMAT)
    if scenario.notifications is not None:
        values.update(scenario.notifications.variables)
    values.update(given or {})
    if not values.get("next_update_time") and values.get("next_update_in"):
        values["next_update_time"] = _next_update(values["next_update_in"], now)
    return values


def _next_update(text: str, now: datetime) -> str:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise InputError([Problem("variables", None, "next_update_in", str(exc))]) from exc
    return (now + timedelta(seconds=seconds)).strftime(NEXT_UPDATE_FORMAT)


def parse_assignments(pairs: Sequence[str]) -> dict[str, str]:
    """``["service=Shop", "workaround=use the app"]`` -> dict; every bad pair at once."""
    values: dict[str, str] = {}
    problems: list[Problem] = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            problems.append(Problem("--var", None, "", f"expected NAME=VALUE, got {pair!r}"))
            continue
        values[name.strip()] = value
    if problems:
        raise InputError(problems)
    return values
