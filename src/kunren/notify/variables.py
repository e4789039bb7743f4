"""The values a notice template can use, gathered from the drill, the scenario and the sender.

Later sources win: what the drill knows (``drill_id``, ``start_time``, ``now``…), then the
scenario's ``notifications.variables`` (service name, affected features, workaround), then what
the sender typed. ``next_update_in: 30m`` turns into ``next_update_time`` counted from now, so
a scenario can make "the next update within 30 minutes" the default for every notice.

Times are written in the drill's time zone (the scenario's ``timezone``, else the host's) and
say which zone they are in ("14:05 JST"): a support person on a phone in Tokyo must not read
a server's UTC as local time, and neither must a customer.

A value the sender cleared on purpose stays cleared: it does not fall back to the
scenario's default, so the preview shows it as missing instead of silently refilling it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from kunren.durations import parse_duration
from kunren.errors import InputError, Problem
from kunren.notify.message import DRILL_MARKER
from kunren.record.events import DrillStarted, Event, FaultInjected, ProbeFailed
from kunren.scenarios.models import Scenario

TIME_FORMAT = "%Y-%m-%d %H:%M"
NEXT_UPDATE_FORMAT = "%H:%M"
_CLOCK_TIME = re.compile(r"(?<!\d)([01]?\d|2[0-3])[:：]([0-5]\d)(?!\d)")
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


def drill_zone(scenario: Scenario) -> tzinfo | None:
    """The scenario's ``timezone``; None means the host's own zone."""
    return ZoneInfo(scenario.timezone) if scenario.timezone else None


def local(when: datetime, scenario: Scenario) -> datetime:
    """``when`` in the drill's time zone."""
    zone = drill_zone(scenario)
    return when.astimezone(zone) if zone is not None else when.astimezone()


def zone_label(when: datetime) -> str:
    """``JST`` for a named zone, ``UTC+09:00`` for a bare offset."""
    name = when.strftime("%Z")
    if name and name.isalpha() and name.isupper():
        return name
    offset = when.utcoffset() or timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def stamp(when: datetime, fmt: str = TIME_FORMAT) -> str:
    """A time as people read it: ``2024-05-01 14:05 JST``."""
    return f"{when.strftime(fmt)} {zone_label(when)}"


def promised_time(text: str, sent: datetime) -> datetime | None:
    """The first clock time in ``text`` ("15:30 JST", "15時30分" is not read) as the next such
    moment at or after ``sent`` in ``sent``'s zone; None when it names no time."""
    match = _CLOCK_TIME.search(text)
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    promised = sent.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if promised < sent - timedelta(minutes=1):
        promised += timedelta(days=1)
    return promised


def drill_id(events: Sequence[Event]) -> str:
    started = next((e for e in events if isinstance(e, DrillStarted)), None)
    return started.drill if started is not None else ""


def gather(
    scenario: Scenario,
    events: Sequence[Event],
    now: datetime,
    given: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Every value a template may use, in precedence order (drill < scenario < given).

    A name given as an empty string is removed: the sender cleared it, so it is missing."""
    now = local(now, scenario)
    given = dict(given or {})
    values: dict[str, str] = {
        "drill_id": drill_id(events),
        "scenario_title": scenario.title,
        "now": stamp(now),
        "marker": DRILL_MARKER,
    }
    started = impact_start(events)
    if started is not None:
        values["start_time"] = stamp(local(started, scenario))
    if scenario.notifications is not None:
        values.update(scenario.notifications.variables)
    values.update(given)
    auto_next = "next_update_time" not in given and not values.get("next_update_time")
    if auto_next and values.get("next_update_in"):
        values["next_update_time"] = _next_update(values["next_update_in"], now)
    for name, value in given.items():
        if not value.strip():
            values.pop(name, None)
    return values


def _next_update(text: str, now: datetime) -> str:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise InputError([Problem("variables", None, "next_update_in", str(exc))]) from exc
    return stamp(now + timedelta(seconds=seconds), NEXT_UPDATE_FORMAT)


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


def promised_at(
    scenario: Scenario, values: Mapping[str, str], at: float, wall: datetime
) -> float | None:
    """The drill time of the next update a notice sent at ``at`` (wall time ``wall``)
    promised in ``next_update_time``; None when it promised none."""
    promised = promised_time(values.get("next_update_time", ""), local(wall, scenario))
    if promised is None:
        return None
    return round(at + (promised - local(wall, scenario)).total_seconds(), 3)
