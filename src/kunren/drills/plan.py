"""A drill's timeline, worked out from the scenario alone, for ``kunren plan``.

Before a game day the facilitator wants to read what will happen and when, in one table, in
time order: services started, load stages, probes, every fault and when it is reverted,
injects, simulated people, objective deadlines and the drill end. The timed rows are the
conductor's own schedule steps (``kunren.drills.schedule``), in the order it fires them and
under the keys the record will carry (``step``), so the plan cannot drift from the run.
Building it touches nothing (no plugin acts, no AWS call), so it is safe to run against a
production scenario; ``--resolve`` is the one opt-in that asks AWS (read-only) which resources
each fault would hit, and its answer arrives here as plain lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import assert_never

from pydantic import JsonValue

from kunren import plugins
from kunren.drills.schedule import (
    EndStep,
    FaultStep,
    InjectStep,
    LoadStep,
    RevertStep,
    SimulatedStep,
    Step,
    build_schedule,
)
from kunren.durations import format_clock, format_duration
from kunren.errors import PluginError
from kunren.scenarios.models import Scenario, Target

# Rows at the same time read best in the order a drill brings them up: what starts with the
# drill, then the steps in the order the conductor fires them, deadlines, and the end.
_ORDER = {"service": 0, "probe": 1, "stop": 2, "step": 3, "objective": 4, "end": 5}


@dataclass(frozen=True)
class PlanRow:
    """One line of the timeline: what happens at drill time ``at`` (seconds). A step's row
    has the step's key as ``id``."""

    at: float
    what: str
    id: str
    detail: str
    until: float | None = None


@dataclass(frozen=True)
class Plan:
    title: str
    rows: list[PlanRow]
    t0_note: str
    targets: list[tuple[str, str]] = field(default_factory=list)
    runbooks: list[tuple[str, str]] = field(default_factory=list)
    notifications: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)


def build_plan(scenario: Scenario, resolved: Sequence[str] = ()) -> Plan:
    """The timeline of ``scenario``; ``resolved``: one line per fault from ``--resolve``."""
    t0, t0_note = _t0(scenario)
    ranked = [
        *((row, "service") for row in _service_rows(scenario)),
        *((row, "probe" if row.what == "probe" else "stop") for row in _probe_rows(scenario)),
        *((_step_row(scenario, step), _group(step)) for step in build_schedule(scenario)),
        *((row, "objective") for row in _objective_rows(scenario, t0)),
    ]
    # a stable sort: steps at the same time keep the schedule's order
    ranked.sort(key=lambda pair: (pair[0].at, _ORDER[pair[1]]))
    rows = [row for row, _ in ranked]
    return Plan(
        title=f"{scenario.id}: {scenario.title}",
        rows=rows,
        t0_note=t0_note,
        targets=_targets(scenario),
        runbooks=_runbooks(scenario),
        notifications=_notifications(scenario),
        resolved=list(resolved),
    )


def render_plan(plan: Plan) -> str:
    """The plan as the text ``kunren plan`` prints."""
    out = [plan.title, plan.t0_note, ""]
    table = [("TIME", "UNTIL", "WHAT", "ID", "DETAIL")]
    for row in plan.rows:
        until = format_clock(row.until) if row.until is not None else ""
        table.append((format_clock(row.at), until, row.what, row.id, row.detail))
    out += columns(table)
    for heading, pairs in (("Targets", plan.targets), ("Runbooks", plan.runbooks)):
        if pairs:
            out += ["", heading, *columns(pairs, indent="  ")]
    if plan.notifications:
        out += ["", "Notifications", *(f"  {line}" for line in plan.notifications)]
    if plan.resolved:
        out += ["", "Resolved now (read-only calls)", *(f"  {line}" for line in plan.resolved)]
    out += ["", "Nothing was touched: this is the plan only."]
    return "\n".join(out)


# ---------------------------------------------------------------- rows


def _t0(scenario: Scenario) -> tuple[float, str]:
    if not scenario.faults:
        return 0.0, "T0 (objectives count from here): drill start, as there are no faults"
    first = min(scenario.faults, key=lambda f: f.at)
    where = f"the first fault ({first.id} at {format_duration(first.at)})"
    if scenario.t0 == "impact":
        return first.at, (
            "T0 (objectives count from here): impact, the first probe failure; "
            f"deadlines below assume {where}"
        )
    return first.at, f"T0 (objectives count from here): {where}"


def _service_rows(scenario: Scenario) -> list[PlanRow]:
    rows = []
    for name, service in scenario.services.items():
        detail = " ".join(service.command)
        if service.ready:
            detail += f" (ready: {service.ready})"
        rows.append(PlanRow(0.0, "service", name, f"start {detail}"))
    return rows


def _probe_rows(scenario: Scenario) -> list[PlanRow]:
    rows = [
        PlanRow(
            0.0,
            "probe",
            probe.id,
            f"{probe.kind} every {format_duration(probe.every)}{_params(probe.params)}"
            f"{_availability(plugins.PROBES, probe.kind)}",
        )
        for probe in scenario.probes
    ]
    for stop in scenario.stop_conditions:
        how_long = f" for {format_duration(stop.failing_for)}" if stop.failing_for else ""
        rows.append(PlanRow(0.0, "stop", stop.probe, f"abort and revert all if it fails{how_long}"))
    return rows


def _group(step: Step) -> str:
    return "end" if isinstance(step, EndStep) else "step"


def _step_row(scenario: Scenario, step: Step) -> PlanRow:
    """One schedule step as a row, keyed as the record will key its events."""
    match step:
        case LoadStep():
            return _load_row(scenario, step)
        case FaultStep(fault=fault):
            on = f" on {fault.target}" if fault.target else ""
            detail = f"{fault.kind}{on}{_params(fault.params)}"
            detail += _availability(plugins.INJECTORS, fault.kind)
            return PlanRow(step.at, "fault", step.key, detail, step.until)
        case RevertStep(fault=fault):
            detail = f"undo {fault.kind} after {_dur(fault.for_)}"
            return PlanRow(step.at, "revert", step.key, detail)
        case InjectStep():
            return PlanRow(step.at, "inject", step.key, _inject_detail(step), step.until)
        case SimulatedStep(mark=mark):
            lo, hi = mark.window
            drawn = "" if lo == hi else f", drawn from {_dur(lo)}-{_dur(hi)}"
            detail = f"{mark.person} ({mark.role}) marks {mark.milestone}{drawn}"
            return PlanRow(step.at, "simulated", step.key, detail)
        case EndStep():
            censored = f"({_mins(scenario.duration)}+ min)"
            detail = f"drill ends; milestones not reached are censored {censored}"
            return PlanRow(step.at, "end", step.key, detail)
        case _:
            assert_never(step)


def _load_row(scenario: Scenario, step: LoadStep) -> PlanRow:
    load = scenario.load
    assert load is not None  # a load step comes from the scenario's load
    stages = load.stages
    until = stages[step.number].at if step.number < len(stages) else scenario.duration
    detail = f"{step.stage.users} users (spawn {step.stage.spawn_rate:g}/s)"
    if step.number == 1:
        source = (
            f"locustfile {load.locustfile}" if load.locustfile else "GET " + ", ".join(load.urls)
        )
        workers = f", {load.distributed.workers} workers" if load.distributed.workers else ""
        master = f", master {load.master.host}:{load.master.port}" if load.master else ""
        detail += f": {source} on {load.host}{workers}{master}"
    return PlanRow(step.at, "load", step.key, detail, until)


def _inject_detail(step: InjectStep) -> str:
    inject = step.inject
    if inject.kind == "unavailable":
        away = f" for {_dur(inject.for_)}" if inject.for_ is not None else ""
        detail = f"unavailable: {inject.who} is away{away}"
        if inject.text:
            detail += f": {inject.text}"
    else:
        detail = f"{inject.kind}: {inject.text.strip()}"
    if inject.to:
        detail += f" (to {', '.join(inject.to)})"
    return detail


def _objective_rows(scenario: Scenario, t0: float) -> list[PlanRow]:
    rows = []
    for name, objective in scenario.objectives.items():
        custom = scenario.milestones.get(name)
        label = f"{custom.label}: " if custom is not None and custom.label else ""
        by = f", by {', '.join(objective.by)}" if objective.by else ""
        detail = f"{label}reached within {_dur(objective.within)} of T0{by}"
        rows.append(PlanRow(t0 + objective.within, "objective", name, detail))
    return rows


# ---------------------------------------------------------------- sections below the table


def _targets(scenario: Scenario) -> list[tuple[str, str]]:
    return [
        (name, f"{target.kind}: {describe_target(target)}")
        for name, target in scenario.targets.items()
    ]


def describe_target(target: Target) -> str:
    """A target in one line, as written in the scenario (nothing is looked up)."""
    if target.url is not None:
        via = f" (fault proxy, forwards to {target.upstream})" if target.upstream else ""
        return f"{target.url}{via}"
    spec = target.spec(target.kind)
    data = spec.model_dump(exclude_none=True, exclude_defaults=True)
    return _flow(data) if data else "(no filters)"


def _runbooks(scenario: Scenario) -> list[tuple[str, str]]:
    pairs = []
    for runbook in scenario.runbooks:
        on = f" on {runbook.target}" if runbook.target else ""
        roles = ", ".join(runbook.roles) if runbook.roles else "every role"
        detail = f"{runbook.kind}{on}{_params(runbook.params)}; roles: {roles}: {runbook.title}"
        pairs.append((runbook.id, detail + _availability(plugins.INJECTORS, runbook.kind)))
    return pairs


def _notifications(scenario: Scenario) -> list[str]:
    notes = scenario.notifications
    if notes is None:
        return []
    lines = []
    if notes.templates:
        templates = [
            name if isinstance(ref, str) else f"{name} ({', '.join(ref)})"
            for name, ref in notes.templates.items()
        ]
        lines.append("templates: " + ", ".join(templates))
    if notes.audiences:
        audiences = [f"{name} ({spec.file})" for name, spec in notes.audiences.items()]
        lines.append("audiences: " + ", ".join(audiences))
    lines.append("channels: " + ", ".join(channel.name for channel in notes.channels))
    if notes.approval is not None:
        lines.append("approval by: " + ", ".join(notes.approval.by))
    return lines


# ---------------------------------------------------------------- text helpers


def _availability(group: plugins.Group[plugins.Plugin], kind: str) -> str:
    try:
        cls = plugins.load(group, kind)
    except PluginError:
        return " (not installed)"
    return "" if cls.available else " (not available yet)"


def _params(params: Mapping[str, JsonValue]) -> str:
    if not params:
        return ""
    return ": " + " ".join(f"{key}={_flow(value)}" for key, value in params.items())


def _flow(value: object) -> str:
    """YAML-flow-like text for a parameter value: ``{path: /search}``, ``[a, b]``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _dur(seconds: float | None) -> str:
    return format_duration(seconds or 0.0)


def _mins(seconds: float) -> str:
    return f"{seconds / 60:g}"


def columns(rows: Sequence[tuple[str, ...]], indent: str = "") -> list[str]:
    """Left-aligned columns; the last one is free text and is not padded."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append((indent + "  ".join([*cells, row[-1]])).rstrip())
    return lines
