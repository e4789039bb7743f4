"""What the system did during the drill: machine timings, faults planned vs actual, the timeline.

These sit beside the people's milestones in the Scorecard, on the same clock: time to impact
(first probe failure), to the first alert and to recovery (every failing probe well again).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeVar

from kunren.record.events import (
    Event,
    FaultFailed,
    FaultInjected,
    FaultInjecting,
    FaultReverted,
    FaultRevertFailed,
    FaultReverting,
    Inject,
    LoadStage,
    ProbeFailed,
    ProbeRecovered,
    Runbook,
    ServiceStarted,
)
from kunren.record.marks import Gist, Mark
from kunren.record.timeline import entry_of
from kunren.record.timeline_words import describe
from kunren.scorers.alerts import alert_starts, fault_alert
from kunren.scorers.card import (
    FaultRun,
    InjectItem,
    LoadPoint,
    MachineTimings,
    TimelineEntry,
    Timing,
)
from kunren.scorers.display import BEFORE_T0, format_timing
from kunren.scorers.record import DrillRecord


def machine_timings(record: DrillRecord) -> MachineTimings:
    """Impact, first alert and recovery; all None when nothing watched the system (tabletop).

    The first alert is the first one that started firing at or after T0; an alert already
    firing at T0 says nothing about this drill and is listed apart. With no alert in the
    record at all, nothing says an alert source was connected: ``alert_source`` is "none"
    and there is no time to alert, rather than a censored "60+ min".
    """
    impact = _impact(record)
    alerts = alert_starts(record)
    watched = bool(record.scenario.probes) or impact is not None or bool(alerts.all)
    if not watched:
        return MachineTimings(impact=None, first_alert=None, recovery=None, alert_source="none")
    first = alerts.first_after(record.t0.at)
    return MachineTimings(
        impact=_timing(record, impact),
        first_alert=_timing(record, first.at if first else None) if alerts.all else None,
        recovery=None if impact is None else _timing(record, _recovered_at(record.events)),
        alert_source="received" if alerts.all else "none",
        firing_at_t0=alerts.firing_at_t0,
    )


def _impact(record: DrillRecord) -> float | None:
    """When the system first failed in this drill: the first probe failure at or after T0, or,
    when a probe was already failing at T0, when that began (shown as "before T0", never as a
    negative time). A failure that recovered before T0 says nothing about this drill."""
    t0 = record.t0.at
    failing_since: dict[str, float] = {}
    for event in record.events:
        if event.at >= t0:
            break
        if isinstance(event, ProbeFailed):
            failing_since.setdefault(event.probe, event.at)
        elif isinstance(event, ProbeRecovered):
            failing_since.pop(event.probe, None)
    if failing_since:
        return min(failing_since.values())
    return next((e.at for e in record.events if isinstance(e, ProbeFailed) and e.at >= t0), None)


def _recovered_at(events: list[Event]) -> float | None:
    """When every probe was well again for good: the last recovery with no failure after it."""
    failing: set[str] = set()
    well_since: float | None = None
    for event in events:
        if isinstance(event, ProbeFailed):
            failing.add(event.probe)
            well_since = None
        elif isinstance(event, ProbeRecovered) and event.probe in failing:
            failing.discard(event.probe)
            if not failing:
                well_since = event.at
    return well_since if not failing else None


def _timing(record: DrillRecord, at: float | None) -> Timing:
    if at is None:
        return Timing(
            seconds=None,
            censored=True,
            bound_seconds=record.window,
            display=record.censored_display(),
        )
    if at < record.t0.at:  # already failing at T0: no time to impact to measure
        return Timing(seconds=None, display=BEFORE_T0["en"], at=at, before_t0=True)
    seconds = record.since_t0(at)
    return Timing(seconds=seconds, display=format_timing(seconds), at=at)


def fault_runs(record: DrillRecord) -> list[FaultRun]:
    """Every planned fault with what happened to it, then faults the plan did not name.

    A fault ends when it was reverted or, for one that cannot be undone (a killed process),
    when its target was restarted, by a runbook or by the conductor; runbooks' own "faults"
    (a restart) are the team's actions and carry ``runbook``.
    """
    planned = {f.id: f for f in record.scenario.faults}
    order = list(planned)
    # One pass over the record, looking only at fault events (a long record is mostly other
    # kinds, and asking every event for a field it lacks is slow on pydantic models).
    fault_events = [e for e in record.events if isinstance(e, _FAULT_EVENT_TYPES)]
    for event in fault_events:
        if event.fault not in order:
            order.append(event.fault)
    alerts = alert_starts(record)
    runs = []
    for fault_id in order:
        spec = planned.get(fault_id)
        injecting = _first(fault_events, FaultInjecting, fault_id)
        injected = _first(fault_events, FaultInjected, fault_id)
        reverted = _first(fault_events, FaultReverted, fault_id)
        failed = _first(fault_events, FaultFailed, fault_id)
        revert_failed = _first(fault_events, FaultRevertFailed, fault_id)
        target = spec.target if spec else (injecting.target if injecting else None)
        ended_at, ended_by = _fault_end(record, injected, reverted, target)
        alert, alert_status = fault_alert(record, alerts, injected, ended_at, ended_by)
        runs.append(
            FaultRun(
                fault=fault_id,
                kind=spec.kind if spec else (injected.kind if injected else ""),
                target=target,
                planned_at=spec.at if spec else None,
                injected_at=injected.at if injected else None,
                reverted_at=reverted.at if reverted else None,
                targets=list(injected.targets) if injected else [],
                detail=injected.detail if injected else "",
                failed=failed.error if failed else None,
                revert_failed=revert_failed.error if revert_failed else None,
                runbook=injecting.runbook if injecting else None,
                ended_at=ended_at,
                ended_by=ended_by,
                alert=alert,
                alert_status=alert_status,
            )
        )
    return runs


EndedBy = Literal["reverted", "restarted", "recovered", "drill_end"]


def _fault_end(
    record: DrillRecord,
    injected: FaultInjected | None,
    reverted: FaultReverted | None,
    target: str | None,
) -> tuple[float | None, EndedBy | None]:
    if injected is None:
        return None, None
    if reverted is not None and reverted.at >= injected.at:
        return reverted.at, "reverted"
    restarted = _restarted_at(record, injected, target)
    if restarted is not None:
        return restarted, "restarted"
    if injected.revert is None:  # nothing to undo (a killed process): it ends when the
        well = _recovered_at([e for e in record.events if e.at >= injected.at])
        if well is not None:  # system is well again
            return well, "recovered"
    return record.end, "drill_end"


def _restarted_at(record: DrillRecord, injected: FaultInjected, target: str | None) -> float | None:
    """When the fault's target was started again: a runbook acting on it, or its service."""
    if target is None:
        return None
    spec = record.scenario.targets.get(target)
    service = spec.process.service if spec is not None and spec.process is not None else None
    runbook_targets = {r.id for r in record.scenario.runbooks if r.target == target}
    for event in record.events:
        if event.at < injected.at or event.seq == injected.seq:
            continue
        if isinstance(event, ServiceStarted) and service is not None and event.name == service:
            return event.at
        if isinstance(event, Runbook) and event.result == "ok" and event.runbook in runbook_targets:
            return event.at
    return None


_FaultEvent = TypeVar(
    "_FaultEvent", FaultInjecting, FaultInjected, FaultReverted, FaultFailed, FaultRevertFailed
)
_FAULT_EVENT_TYPES = (
    FaultInjecting,
    FaultInjected,
    FaultReverting,
    FaultReverted,
    FaultFailed,
    FaultRevertFailed,
)


def _first(events: Sequence[Event], kind: type[_FaultEvent], fault_id: str) -> _FaultEvent | None:
    return next((e for e in events if isinstance(e, kind) and e.fault == fault_id), None)


def inject_items(record: DrillRecord) -> list[InjectItem]:
    unmatched = list(record.scenario.injects)
    items = []
    for event in record.events:
        if not isinstance(event, Inject):
            continue
        spec = next(
            (
                s
                for s in unmatched
                if s.kind == event.kind and (s.text == event.text or (s.who and s.who == event.who))
            ),
            None,
        )
        if spec is not None:
            unmatched.remove(spec)
        items.append(
            InjectItem(
                at=event.at,
                kind=event.kind,
                text=event.text,
                who=event.who,
                planned_at=spec.at if spec else None,
            )
        )
    return items


def load_points(record: DrillRecord) -> list[LoadPoint]:
    if record.load_stats:
        return list(record.load_stats)
    return [LoadPoint(at=e.at, users=e.users) for e in record.events if isinstance(e, LoadStage)]


def timeline_marks(record: DrillRecord, faults: list[FaultRun]) -> list[Mark]:
    """One merged, drill-time-ordered list of what the system and the people did.

    Each event became its structured entry (``kunren.record.timeline``) as a slim ``Mark``
    when the record was read; spans (a fault until it ended, a probe until it recovered) and
    amendments are added here. A fault a runbook caused (a restart) is drawn in the people's
    lanes, as the team's action. Intent and bookkeeping (injecting, reverting, services
    started and stopped) are the console's, load statistics are the load line, amendments
    have their own table, and a readiness answered "ok" is not news: none is on it.
    """
    fault_ends = {run.fault: run.ended_at for run in faults}
    by_runbook = {run.fault for run in faults if run.runbook is not None}
    recovered = _probe_recoveries(record.events)
    finished: dict[Gist, Gist] = {}

    def finish(gist: Gist) -> Gist:
        """What a gist says once the whole record is known: who acted in which role, an
        imported drill's entries as imported, a runbook's restart as the team's action."""
        done = finished.get(gist)
        if done is None:
            done = gist
            if record.imported and done.provenance == "conductor":
                done = done._replace(provenance="import")
            if done.lane == "fault" and done.subject in by_runbook:
                done = done._replace(lane="people", provenance="participant")
            if done.actor and not done.role:
                done = done._replace(role=record.role_of(done.actor, None))
            finished[gist] = finished[done] = done
        return done

    for mark in record.marks:
        mark.gist = finish(mark.gist)
        if mark.kind == "fault.injected":
            ended = fault_ends.get(mark.subject)
            mark.until = record.end if ended is None else ended  # 0.0 is a time, not "none"
        elif mark.kind == "probe.failed":
            until = next((at for at in recovered.get(mark.subject, ()) if at >= mark.at), None)
            mark.until = record.end if until is None else until
        mark.recorded_at = record.recorded_at.get(mark.seq)
    return record.marks


def timeline(record: DrillRecord, faults: list[FaultRun]) -> list[TimelineEntry]:
    """``timeline_marks`` as the Scorecard's entries, each with its English text."""
    return [
        TimelineEntry(
            **entry_of(mark).model_dump(),
            text=describe(mark, "en"),
            until=mark.until,
            recorded_at=mark.recorded_at,
        )
        for mark in timeline_marks(record, faults)
    ]


def _probe_recoveries(events: list[Event]) -> dict[str, list[float]]:
    """Each probe's recovery times in one pass: finding a span's end is then a short look."""
    ends: dict[str, list[float]] = {}
    for event in events:
        if isinstance(event, ProbeRecovered):
            ends.setdefault(event.probe, []).append(event.at)
    return ends
