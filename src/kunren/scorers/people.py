"""What the people did beyond milestones: customer notices, team health, readiness, notes, gaps.

The design's finding from real drills lives here: if one person sends every customer notice,
the team is one absence away from silence, so the Scorecard counts senders and the top
sender's share. Notices are followed through drafted → approved → sent by their ``notice`` id,
which gives the approval wait; their checklist and cadence come from ``notice_quality``.
"""

from __future__ import annotations

from collections import Counter

from kunren.record.events import ParticipantJoined, Readiness, Runbook
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
from kunren.scorers.record import DrillRecord, NoticeEvents

ACTION_PREFIX = "action:"


def notices(record: DrillRecord) -> list[Notice]:
    """Each customer notice once, its drafted/approved/sent events folded together, with
    what it lacked of the checklist and whether the next update it promised came."""
    checked = notice_quality.checked(record)
    items = [_notice(record, folded, checked) for folded in record.notices]
    return notice_quality.with_cadence(items, record.end)


def _notice(record: DrillRecord, folded: NoticeEvents, checked: bool) -> Notice:
    drafted, approved, sent = folded.drafted, folded.approved, folded.sent
    latest = folded.latest
    main = sent or latest
    partial = latest.status == "sent" and bool(latest.failed)
    sender = next((e.sender for e in (sent, drafted, latest) if e and e.sender), "")
    wait = round(approved.at - drafted.at, 3) if approved and drafted else None
    return Notice(
        notice=folded.key,
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
        attempts=folded.attempts,
        failures=folded.failures,
        retries=max(0, folded.attempts - 1),
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
    """Everyone seen acting in each role: joined, answered readiness, marked, sent a notice
    or ran a runbook (these last three in the role they marked in, else the one they joined)."""
    seen: dict[str, set[str]] = {}
    for event in record.events:
        if isinstance(event, ParticipantJoined | Readiness) and event.actor and event.role:
            seen.setdefault(event.role, set()).add(event.actor)
    for actor, recorded in record.people:
        role = record.role_of(actor, recorded)
        if actor and role:
            seen.setdefault(role, set()).add(actor)
    order = list(record.scenario.roles)
    return {
        role: sorted(seen[role])
        for role in sorted(seen, key=lambda r: (order.index(r) if r in order else len(order), r))
    }


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
    for note in record.notes:
        text = note.text.strip()
        if text.lower().startswith(ACTION_PREFIX):
            action = text[len(ACTION_PREFIX) :].strip()
            actions.append(NoteItem(at=note.at, actor=note.actor, text=action))
        else:
            plain.append(
                note if text == note.text else NoteItem(at=note.at, actor=note.actor, text=text)
            )
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
