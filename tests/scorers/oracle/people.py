"""The oracle's notices, team health, readiness, notes, gaps (see ``oracle/score.py``)."""

from __future__ import annotations

from collections import Counter

from kunren.record.events import (
    Milestone,
    Note,
    Notification,
    ParticipantJoined,
    Readiness,
    Runbook,
)
from kunren.record.timeline import notice_status
from kunren.scorers import notice_quality
from kunren.scorers.card import (
    ApprovalWait,
    FaultRun,
    Gap,
    MilestoneResult,
    NoteItem,
    Notice,
    ReadinessItem,
    RoleMiss,
    SenderShare,
    TeamHealth,
)
from kunren.scorers.display import format_observed, format_timing
from tests.scorers.oracle.record import DrillRecord

ACTION_PREFIX = "action:"


def notices(record: DrillRecord) -> list[Notice]:
    """Each customer notice once, its drafted/approved/sent events folded together, with
    what it lacked of the checklist and whether the next update it promised came."""
    groups: dict[str, list[Notification]] = {}
    for event in record.events:
        if isinstance(event, Notification):
            groups.setdefault(event.notice or f"#{event.seq}", []).append(event)
    checked = bool(notice_quality.checklist(record.scenario)) and not record.imported
    items = [_notice(record, key, events, checked) for key, events in groups.items()]
    return notice_quality.with_cadence(items, record.end)


def _notice(record: DrillRecord, key: str, events: list[Notification], checked: bool) -> Notice:
    def first(status: str) -> Notification | None:
        return next((e for e in events if e.status == status), None)

    drafted, approved, sent = first("drafted"), first("approved"), first("sent")
    latest = events[-1]
    main = sent or latest
    attempts = [e for e in events if e.status in ("sent", "failed")]
    failures = [e for e in attempts if e.status == "failed" or e.failed]
    partial = latest.status == "sent" and bool(latest.failed)
    sender = next((e.sender for e in (sent, drafted, latest) if e and e.sender), "")
    wait = round(approved.at - drafted.at, 3) if approved and drafted else None
    return Notice(
        notice=key,
        status=notice_status(latest),
        channel=main.channel,
        audience=main.audience,
        template=main.template,
        recipients=main.recipients,
        delivered=main.delivered,
        failed=len(main.failed),
        captured=main.captured,
        sender=sender,
        role=record.role_of(sender, main.role) if sender else main.role,
        approver=next((e.approver for e in (approved, sent) if e and e.approver), None),
        drafted_at=drafted.at if drafted else None,
        approved_at=approved.at if approved else None,
        sent_at=sent.at if sent else None,
        sent_seconds=record.since_t0(sent.at) if sent else None,
        approval_wait_seconds=wait,
        subject=main.subject,
        attempts=len(attempts),
        failures=len(failures),
        retries=max(0, len(attempts) - 1),
        partial=partial,
        checked=checked,
        lacking=list(main.lacking) if checked else [],
        next_update_at=sent.next_update_at if sent else None,
    )


def approval_waits(items: list[Notice]) -> list[ApprovalWait]:
    return [
        ApprovalWait(
            notice=n.notice,
            seconds=n.approval_wait_seconds,
            display=format_timing(n.approval_wait_seconds),
            approver=n.approver,
        )
        for n in items
        if n.approval_wait_seconds is not None
    ]


def team_health(
    record: DrillRecord, items: list[Notice], milestones: dict[str, MilestoneResult]
) -> TeamHealth:
    sent = [n for n in items if n.sent_at is not None]
    counts = Counter(n.sender or "unknown" for n in sent)
    shares = [
        SenderShare(sender=who, notices=count, share=round(count / len(sent), 3))
        for who, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return TeamHealth(
        notice_senders=len(counts),
        notices_sent=len(sent),
        top_sender=shares[0] if shares else None,
        senders=shares,
        people=people_by_role(record),
        roles_missed=[
            RoleMiss(role=role, milestone=m.name)
            for m in milestones.values()
            for role in m.roles_missed
        ],
    )


def people_by_role(record: DrillRecord) -> dict[str, list[str]]:
    seen: dict[str, set[str]] = {}
    for event in record.events:
        actor, role = _actor_role(record, event)
        if actor and role:
            seen.setdefault(role, set()).add(actor)
    order = list(record.scenario.roles)
    return {
        role: sorted(seen[role])
        for role in sorted(seen, key=lambda r: (order.index(r) if r in order else len(order), r))
    }


def _actor_role(record: DrillRecord, event: object) -> tuple[str | None, str | None]:
    if isinstance(event, ParticipantJoined | Readiness):
        return event.actor, event.role
    if isinstance(event, Milestone | Runbook):
        return event.actor, record.role_of(event.actor, event.role)
    if isinstance(event, Notification) and event.sender:
        return event.sender, record.role_of(event.sender, event.role)
    return None, None


def readiness(record: DrillRecord) -> list[ReadinessItem]:
    return [
        ReadinessItem(
            actor=e.actor, role=e.role, tool=e.tool, ok=e.ok, note=e.note, at=e.at, wall=e.wall
        )
        for e in record.events
        if isinstance(e, Readiness)
    ]


def notes(record: DrillRecord) -> tuple[list[NoteItem], list[NoteItem]]:
    """Plain notes, and action items (notes starting ``action:``, prefix removed)."""
    plain: list[NoteItem] = []
    actions: list[NoteItem] = []
    for event in record.events:
        if not isinstance(event, Note):
            continue
        text = event.text.strip()
        if text.lower().startswith(ACTION_PREFIX):
            action = text[len(ACTION_PREFIX) :].strip()
            actions.append(NoteItem(at=event.at, actor=event.actor, text=action))
        else:
            plain.append(NoteItem(at=event.at, actor=event.actor, text=text))
    return plain, actions


def gaps(
    record: DrillRecord,
    milestones: dict[str, MilestoneResult],
    health: TeamHealth,
    ready: list[ReadinessItem],
    faults: list[FaultRun],
) -> list[Gap]:
    found: list[Gap] = []
    for m in milestones.values():
        found += _milestone_gaps(m, record.window)
    if health.notices_sent >= 2 and health.notice_senders == 1 and health.top_sender:
        who = health.top_sender.sender
        found.append(
            Gap(
                kind="single_sender",
                actor=who,
                count=health.notices_sent,
                text=f"{who} sent all {health.notices_sent} customer notices; nobody else did",
            )
        )
    for item in ready:
        if not item.ok:
            note = f" ({item.note})" if item.note else ""
            found.append(
                Gap(
                    kind="lacked_access",
                    actor=item.actor,
                    role=item.role,
                    tool=item.tool,
                    text=f"{item.actor} ({item.role}) could not open {item.tool}{note}",
                )
            )
    found += _staffing_gaps(record)
    for run in faults:
        if run.failed:
            found.append(Gap(kind="fault_failed", text=f"fault {run.fault} failed: {run.failed}"))
        if run.revert_failed:
            found.append(
                Gap(
                    kind="revert_failed",
                    text=f"fault {run.fault} could not be reverted: {run.revert_failed}",
                )
            )
    for event in record.events:
        if isinstance(event, Runbook) and event.result != "ok":
            detail = f": {event.detail}" if event.detail else ""
            found.append(
                Gap(
                    kind="runbook_failed",
                    actor=event.actor,
                    role=event.role,
                    text=f"runbook {event.runbook} by {event.actor} {event.result}{detail}",
                )
            )
    return found


def _milestone_gaps(m: MilestoneResult, observed: float) -> list[Gap]:
    """A missed objective (an open one, whose deadline had not passed, is not a gap)."""
    objective = m.objective
    if objective is None or objective.status != "missed":
        return []
    by = f" by {', '.join(objective.by)}" if objective.by else ""
    if objective.seconds is not None:
        took = format_timing(objective.seconds)
    else:
        took = f"not reached in the {format_observed(observed)} observed"
    limit = format_timing(objective.within_seconds)
    return [
        Gap(
            kind="objective_missed",
            milestone=m.name,
            seconds=objective.seconds,
            limit=objective.within_seconds,
            text=f"{m.name}{by}: {took}, objective {limit}",
        )
    ]


def _staffing_gaps(record: DrillRecord) -> list[Gap]:
    """Roles with fewer people than the scenario asks, counting everyone seen acting in the
    role (joined, marked, sent a notice, ran a runbook), so this agrees with team health."""
    if not any(isinstance(e, ParticipantJoined) for e in record.events):
        return []  # nobody joined through kunren (an imported drill): staffing is unknown
    seen = people_by_role(record)
    found = []
    for role, spec in record.scenario.roles.items():
        count = len(seen.get(role, []))
        if count < spec.min:
            found.append(
                Gap(
                    kind="understaffed",
                    role=role,
                    count=count,
                    needed=spec.min,
                    text=f"{role}: {count} took part, the scenario needs at least {spec.min}",
                )
            )
    return found
