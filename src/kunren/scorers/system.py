"""What the system did during the drill: machine timings, faults planned vs actual, the timeline.

These sit beside the people's milestones in the Scorecard, on the same clock: time to impact
(first probe failure), to the first alert and to recovery (every failing probe well again).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from kunren.record.events import (
    Alert,
    DrillAborted,
    DrillEnded,
    DrillResumed,
    DrillStarted,
    Event,
    FaultFailed,
    FaultInjected,
    FaultInjecting,
    FaultReverted,
    FaultRevertFailed,
    FaultReverting,
    Inject,
    LoadStage,
    LoadStats,
    Milestone,
    Note,
    Notification,
    ParticipantJoined,
    ProbeFailed,
    ProbeRecovered,
    Readiness,
    Runbook,
)
from kunren.scorers.card import (
    FaultRun,
    InjectItem,
    LoadPoint,
    MachineTimings,
    TimelineEntry,
    Timing,
)
from kunren.scorers.display import format_timing
from kunren.scorers.record import DrillRecord


def machine_timings(record: DrillRecord) -> MachineTimings:
    """Impact, first alert and recovery; all None when nothing watched the system (tabletop)."""
    impact = next((e.at for e in record.events if isinstance(e, ProbeFailed)), None)
    alert = next(
        (e.at for e in record.events if isinstance(e, Alert) and e.status != "resolved"), None
    )
    watched = bool(record.scenario.probes) or impact is not None or alert is not None
    if not watched:
        return MachineTimings(impact=None, first_alert=None, recovery=None)
    return MachineTimings(
        impact=_timing(record, impact),
        first_alert=_timing(record, alert),
        recovery=None if impact is None else _timing(record, _recovered_at(record.events)),
    )


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
    seconds = record.since_t0(at)
    return Timing(seconds=seconds, display=format_timing(seconds), at=at)


def fault_runs(record: DrillRecord) -> list[FaultRun]:
    """Every planned fault with what happened to it, then faults the plan did not name."""
    planned = {f.id: f for f in record.scenario.faults}
    order = list(planned)
    # One pass over the record, looking only at fault events (a long record is mostly other
    # kinds, and asking every event for a field it lacks is slow on pydantic models).
    fault_events = [e for e in record.events if isinstance(e, _FAULT_EVENT_TYPES)]
    for event in fault_events:
        if event.fault not in order:
            order.append(event.fault)
    runs = []
    for fault_id in order:
        spec = planned.get(fault_id)
        injected = _first(fault_events, FaultInjected, fault_id)
        reverted = _first(fault_events, FaultReverted, fault_id)
        failed = _first(fault_events, FaultFailed, fault_id)
        revert_failed = _first(fault_events, FaultRevertFailed, fault_id)
        runs.append(
            FaultRun(
                fault=fault_id,
                kind=spec.kind if spec else (injected.kind if injected else ""),
                target=spec.target if spec else None,
                planned_at=spec.at if spec else None,
                injected_at=injected.at if injected else None,
                reverted_at=reverted.at if reverted else None,
                targets=list(injected.targets) if injected else [],
                detail=injected.detail if injected else "",
                failed=failed.error if failed else None,
                revert_failed=revert_failed.error if revert_failed else None,
            )
        )
    return runs


_FaultEvent = TypeVar("_FaultEvent", FaultInjected, FaultReverted, FaultFailed, FaultRevertFailed)
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
    stats = [e for e in record.events if isinstance(e, LoadStats)]
    if stats:
        return [
            LoadPoint(
                at=e.at, users=e.users, rps=e.rps, failures_per_s=e.failures_per_s, p95_ms=e.p95_ms
            )
            for e in stats
        ]
    return [LoadPoint(at=e.at, users=e.users) for e in record.events if isinstance(e, LoadStage)]


def timeline(record: DrillRecord) -> list[TimelineEntry]:
    """One merged, drill-time-ordered list of what the system and the people did."""
    entries = []
    ends = _span_ends(record.events)
    for event in record.events:
        entry = _entry(record, event, ends)
        if entry is not None:
            recorded = record.recorded_at.get(event.seq)
            entries.append(entry.model_copy(update={"seq": event.seq, "recorded_at": recorded}))
    return entries


SpanEnds = dict[tuple[str, str], list[float]]


def _span_ends(events: list[Event]) -> SpanEnds:
    """The times each fault was reverted and each probe recovered, in record order.

    Collected in one pass, so finding where each span ends costs a look at its own key's
    ends, not a scan of the whole record per span (quadratic on long drills).
    """
    ends: SpanEnds = {}
    for event in events:
        if isinstance(event, FaultReverted):
            ends.setdefault(("fault", event.fault), []).append(event.at)
        elif isinstance(event, ProbeRecovered):
            ends.setdefault(("probe", event.probe), []).append(event.at)
    return ends


def _until(record: DrillRecord, event: Event, ends: SpanEnds) -> float:
    """When a span that starts at ``event`` (a fault, a failing probe) ended."""
    if isinstance(event, FaultInjected):
        key = ("fault", event.fault)
    elif isinstance(event, ProbeFailed):
        key = ("probe", event.probe)
    else:
        return record.end
    for at in ends.get(key, ()):
        if at >= event.at:
            return at
    if isinstance(event, FaultInjected) and event.until is not None:
        return min(event.until, record.end)
    return record.end


def _entry(record: DrillRecord, event: Event, ends: SpanEnds) -> TimelineEntry | None:
    at = event.at
    if isinstance(event, DrillStarted):
        return TimelineEntry(at=at, lane="drill", kind=event.type, text="drill started")
    if isinstance(event, DrillEnded | DrillAborted | DrillResumed):
        word = event.type.split(".")[1]
        return TimelineEntry(
            at=at, lane="drill", kind=event.type, text=f"drill {word}: {event.reason}"
        )
    if isinstance(event, FaultInjected):
        targets = f" on {', '.join(event.targets)}" if event.targets else ""
        return TimelineEntry(
            at=at,
            lane="fault",
            kind=event.type,
            text=f"fault {event.fault} injected{targets}",
            subject=event.fault,
            until=_until(record, event, ends),
        )
    if isinstance(event, FaultFailed):
        return TimelineEntry(
            at=at,
            lane="fault",
            kind=event.type,
            text=f"fault {event.fault} failed: {event.error}",
            subject=event.fault,
        )
    if isinstance(event, FaultReverted):
        return TimelineEntry(
            at=at,
            lane="fault",
            kind=event.type,
            text=f"fault {event.fault} reverted",
            subject=event.fault,
        )
    if isinstance(event, FaultRevertFailed):
        return TimelineEntry(
            at=at,
            lane="fault",
            kind=event.type,
            text=f"fault {event.fault} REVERT FAILED: {event.error}",
            subject=event.fault,
        )
    if isinstance(event, LoadStage):
        planned = " (planned, no load generated)" if event.planned else ""
        return TimelineEntry(
            at=at,
            lane="load",
            kind=event.type,
            text=f"load {event.users} users{planned}",
            subject=str(event.users),
        )
    if isinstance(event, ProbeFailed):
        detail = f": {event.detail}" if event.detail else ""
        return TimelineEntry(
            at=at,
            lane="probe",
            kind=event.type,
            text=f"probe {event.probe} failed{detail}",
            subject=event.probe,
            until=_until(record, event, ends),
        )
    if isinstance(event, ProbeRecovered):
        return TimelineEntry(
            at=at,
            lane="probe",
            kind=event.type,
            text=f"probe {event.probe} recovered",
            subject=event.probe,
        )
    if isinstance(event, Alert):
        return TimelineEntry(
            at=at,
            lane="alert",
            kind=event.type,
            text=f"alert {event.name} {event.status} ({event.source})",
            subject=event.name,
        )
    if isinstance(event, Inject):
        who = f" {event.who}" if event.who else ""
        text = f": {event.text}" if event.text else ""
        return TimelineEntry(
            at=at,
            lane="inject",
            kind=event.type,
            text=f"{event.kind}{who}{text}",
            subject=event.kind,
            actor=event.who,
        )
    return _people_entry(record, event)


def _people_entry(record: DrillRecord, event: Event) -> TimelineEntry | None:
    at = event.at
    if isinstance(event, Milestone):
        note = f" ({event.note})" if event.note else ""
        return TimelineEntry(
            at=at,
            lane="people",
            kind=event.type,
            text=f"{event.name}{note}",
            subject=event.name,
            actor=event.actor,
            role=record.role_of(event.actor, event.role),
        )
    if isinstance(event, Notification):
        size = f", {event.recipients} recipients" if event.recipients else ""
        audience = f" to {event.audience}" if event.audience else ""
        return TimelineEntry(
            at=at,
            lane="people",
            kind=event.type,
            text=f"notice {event.status} via {event.channel}{audience}{size}",
            subject=event.status,
            actor=event.sender or event.approver,
            role=record.role_of(event.sender, event.role) if event.sender else event.role,
        )
    if isinstance(event, Runbook):
        return TimelineEntry(
            at=at,
            lane="people",
            kind=event.type,
            text=f"ran {event.runbook}: {event.result}",
            subject=event.runbook,
            actor=event.actor,
            role=record.role_of(event.actor, event.role),
        )
    if isinstance(event, Readiness) and not event.ok:
        return TimelineEntry(
            at=at,
            lane="people",
            kind=event.type,
            text=f"cannot open {event.tool}",
            subject=event.tool,
            actor=event.actor,
            role=event.role,
        )
    if isinstance(event, ParticipantJoined):
        return TimelineEntry(
            at=at,
            lane="people",
            kind=event.type,
            text=f"joined as {event.role}",
            subject=event.role,
            actor=event.actor,
            role=event.role,
        )
    if isinstance(event, Note):
        return TimelineEntry(
            at=at,
            lane="people",
            kind=event.type,
            text=event.text,
            actor=event.actor or None,
            role=record.role_of(event.actor, None) if event.actor else None,
        )
    return None
