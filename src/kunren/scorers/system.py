"""What the system did during the drill: machine timings, faults planned vs actual, the timeline.

These sit beside the people's milestones in the Scorecard, on the same clock: time to impact
(first probe failure), to the first alert and to recovery (every failing probe well again).
"""

from __future__ import annotations

from typing import TypeVar

from kunren.drills.events import (
    Alert,
    DrillAborted,
    DrillEnded,
    DrillResumed,
    DrillStarted,
    Event,
    FaultFailed,
    FaultInjected,
    FaultReverted,
    FaultRevertFailed,
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
    for event in record.events:
        fault = getattr(event, "fault", None)
        if isinstance(fault, str) and fault not in order:
            order.append(fault)
    runs = []
    for fault_id in order:
        spec = planned.get(fault_id)
        injected = _first(record.events, FaultInjected, fault_id)
        reverted = _first(record.events, FaultReverted, fault_id)
        failed = _first(record.events, FaultFailed, fault_id)
        revert_failed = _first(record.events, FaultRevertFailed, fault_id)
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


def _first(events: list[Event], kind: type[_FaultEvent], fault_id: str) -> _FaultEvent | None:
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
    for event in record.events:
        entry = _entry(record, event)
        if entry is not None:
            recorded = record.recorded_at.get(event.seq)
            entries.append(entry.model_copy(update={"seq": event.seq, "recorded_at": recorded}))
    return entries


def _until(record: DrillRecord, event: Event) -> float:
    """When a span that starts at ``event`` (a fault, a failing probe) ended."""
    for later in record.events:
        if later.at < event.at or later.seq == event.seq:
            continue
        ends_fault = (
            isinstance(event, FaultInjected)
            and isinstance(later, FaultReverted)
            and later.fault == event.fault
        )
        ends_failure = (
            isinstance(event, ProbeFailed)
            and isinstance(later, ProbeRecovered)
            and later.probe == event.probe
        )
        if ends_fault or ends_failure:
            return later.at
    if isinstance(event, FaultInjected) and event.until is not None:
        return min(event.until, record.end)
    return record.end


def _entry(record: DrillRecord, event: Event) -> TimelineEntry | None:
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
            until=_until(record, event),
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
            until=_until(record, event),
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
