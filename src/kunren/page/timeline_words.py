"""The facilitator's timeline in the page's language: one line per event, from the event.

A Japanese facilitator reads 「佐藤(サポート): お客様に告知した(参加者のページ)」, not
``milestone`` and ``customer_notified (participant)``; a notice line says who sent which
notice to how many. Each event type has its own case, and ``assert_never`` makes a new
event type a type error here until it is given words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import assert_never

from kunren.durations import format_clock
from kunren.page.i18n import role_label
from kunren.record.events import (
    Alert,
    Amendment,
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
    LoadLost,
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
    ServiceExited,
    ServiceStarted,
    ServiceStopped,
)
from kunren.scenarios.models import Scenario

T = Callable[..., str]


def kind(event: Event, t: T) -> str:
    """What happened, as a column heading: 「マイルストーン」, "Customer notice"."""
    key = "ev_" + event.type.replace(".", "_")
    text = t(key)
    return event.type if text == key else text


def detail(event: Event, t: T, scenario: Scenario, titles: Mapping[str, str] | None = None) -> str:
    """One line about ``event`` in the page's language (plain text; the page escapes it);
    ``titles`` names notice templates as people read them ("調査中のお知らせ")."""
    lang = getattr(t, "lang", "en")

    def who(actor: str, role: str | None) -> str:
        if not actor:
            return ""
        return t("tl_who_role", actor=actor, role=role_label(scenario, role, t)) if role else actor

    def noted(text: str, note: str) -> str:
        return t("tl_noted", text=text, note=note) if note else text

    match event:
        case Milestone():
            label = scenario.milestone_label(event.name, lang)
            text = t(
                "tl_milestone",
                who=who(event.actor, event.role),
                label=label,
                source=t("source_" + event.source),
            )
            return noted(text, event.note)
        case ParticipantJoined():
            return t("tl_joined", who=who(event.actor, event.role))
        case Runbook():
            text = t(
                "tl_runbook",
                who=who(event.actor, event.role),
                runbook=event.runbook,
                result=t(f"result_{event.result}"),
            )
            return noted(text, event.detail)
        case Readiness():
            key = "tl_tool_opens" if event.ok else "tl_tool_fails"
            return noted(t(key, who=who(event.actor, event.role), tool=event.tool), event.note)
        case Alert():
            by = t("tl_by", actor=event.actor) if event.actor else ""
            return f"{event.source}: {event.name} {t('alert_' + event.status)}{by}"
        case Inject():
            target = " → " + ", ".join(role_label(scenario, r, t) for r in event.to)
            body = event.text or event.who or ""
            return f"{t('inject_' + event.kind)}{target if event.to else ''}: {body}"
        case Note():
            return t("tl_note", who=who(event.actor, None), text=event.text)
        case Amendment():
            text = t(
                "tl_amended", seq=event.target_seq, at=format_clock(event.new_at), who=event.actor
            )
            return noted(text, event.reason)
        case Notification():
            title = (titles or {}).get(event.template, event.template)
            return _notice(event, t, who(event.sender, event.role), title)
        case DrillStarted():
            return event.title or event.scenario_id
        case DrillEnded() | DrillResumed():
            return ""
        case DrillAborted():
            return event.reason
        case FaultInjecting() | FaultInjected() | FaultReverting() | FaultReverted():
            return event.fault
        case FaultFailed() | FaultRevertFailed():
            return f"{event.fault}: {event.error}"
        case ProbeFailed() | ProbeRecovered():
            return f"{event.probe}: {event.detail}" if event.detail else event.probe
        case LoadStage():
            return t("tl_users", users=event.users)
        case LoadStats():
            return t("tl_rps", rps=f"{event.rps:.1f}", failures=f"{event.failures_per_s:.1f}")
        case ServiceStarted() | ServiceStopped():
            return event.name
        case ServiceExited():
            return f"{event.name} ({event.code})"
        case LoadLost():
            return f"{event.process}: {event.detail}" if event.detail else event.process
        case _:
            assert_never(event)


def _notice(event: Notification, t: T, who: str, title: str) -> str:
    """Who did what with which notice, and for a send how many it reached."""
    head = t(f"tl_notice_{event.status}", who=who, template=title, notice=event.notice)
    if event.status not in ("sent", "failed"):
        return head
    counts = t(
        "tl_notice_counts",
        channel=event.channel,
        delivered=event.delivered,
        captured=event.captured,
        failed=len(event.failed),
    )
    return f"{head}: {counts}" + (f" ({event.note})" if event.note else "")
