"""The facilitator's timeline in the page's language, from the record's timeline entries.

A Japanese facilitator reads 「佐藤(サポート): お客様に告知した(参加者のページ)」, not
``milestone`` and ``customer_notified (participant)``; a notice line says who sent which
notice to how many. Every line is rendered from the event's structured entry
(``kunren.record.timeline``), never from the event, so the page shows what the report and the
console show. The page words the entries a facilitator follows most closely (people, alerts,
injects, load) with its own strings (``page/strings_timeline.py``); every other entry gets the
timeline's shared sentence (``kunren.record.timeline_words``), which is exhaustive over event
types in both languages, so a new event type reaches this page already worded. Lines are
plain text; the page's templates escape them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kunren.durations import format_clock
from kunren.page.i18n import role_label
from kunren.record.timeline import Entry, EventType
from kunren.record.timeline_words import Lang, describe
from kunren.scenarios.models import Scenario

T = Callable[..., str]


def kind(entry: Entry, t: T) -> str:
    """What happened, as a column heading: 「マイルストーン」, "Customer notice"."""
    key = "ev_" + entry.kind.replace(".", "_")
    text = t(key)
    return entry.kind if text == key else text


def detail(entry: Entry, t: T, scenario: Scenario, titles: Mapping[str, str] | None = None) -> str:
    """One line about ``entry`` in the page's language (plain text; the page escapes it);
    ``titles`` names notice templates as people read them ("調査中のお知らせ")."""
    page = _Page(t, scenario, titles or {})
    words = _PAGE_WORDS.get(entry.kind)
    if words is None:
        return describe(entry, page.lang, lambda name: scenario.milestone_label(name, page.lang))
    return words(entry, page)


@dataclass(frozen=True)
class _Page:
    """What a line needs of the page: its translator, the scenario's labels, template titles."""

    t: T
    scenario: Scenario
    titles: Mapping[str, str]

    @property
    def lang(self) -> Lang:
        return "ja" if getattr(self.t, "lang", "en") == "ja" else "en"

    def who(self, actor: str | None, role: str | None) -> str:
        if not actor:
            return ""
        if not role:
            return actor
        return self.t("tl_who_role", actor=actor, role=role_label(self.scenario, role, self.t))

    def noted(self, text: str, note: str) -> str:
        return self.t("tl_noted", text=text, note=note) if note else text


def _milestone(e: Entry, p: _Page) -> str:
    text = p.t(
        "tl_milestone",
        who=p.who(e.actor, e.role),
        label=p.scenario.milestone_label(e.subject, p.lang),
        source=p.t("source_" + e.provenance),
    )
    return p.noted(text, e.detail)


def _joined(e: Entry, p: _Page) -> str:
    return p.t("tl_joined", who=p.who(e.actor, e.role))


def _runbook(e: Entry, p: _Page) -> str:
    text = p.t(
        "tl_runbook",
        who=p.who(e.actor, e.role),
        runbook=e.subject,
        result=p.t(f"result_{e.status}"),
    )
    return p.noted(text, e.detail)


def _readiness(e: Entry, p: _Page) -> str:
    key = "tl_tool_opens" if e.status == "ok" else "tl_tool_fails"
    return p.noted(p.t(key, who=p.who(e.actor, e.role), tool=e.subject), e.detail)


def _alert(e: Entry, p: _Page) -> str:
    by = p.t("tl_by", actor=e.actor) if e.actor else ""
    return f"{e.via}: {e.subject} {p.t('alert_' + e.status)}{by}"


def _inject(e: Entry, p: _Page) -> str:
    roles = ", ".join(role_label(p.scenario, role, p.t) for role in e.to_roles)
    target = f" → {roles}" if roles else ""
    return f"{p.t('inject_' + e.subject)}{target}: {e.detail or e.actor or ''}"


def _note(e: Entry, p: _Page) -> str:
    return p.t("tl_note", who=p.who(e.actor, None), text=e.detail)


def _amendment(e: Entry, p: _Page) -> str:
    at = format_clock(e.count or 0.0)
    return p.noted(p.t("tl_amended", seq=e.refers_to, at=at, who=e.actor), e.detail)


def _notice(e: Entry, p: _Page) -> str:
    """Who did what with which notice, and for a send how many it reached."""
    template = e.template or ""
    head = p.t(
        f"tl_notice_{e.recorded_status}",
        who=p.who(e.sender, e.role),
        template=p.titles.get(template, template),
        notice=e.subject,
    )
    if e.recorded_status not in ("sent", "failed"):
        return head
    counts = p.t(
        "tl_notice_counts",
        channel=e.via,
        delivered=e.delivered or 0,
        captured=e.captured or 0,
        failed=len(e.targets),
    )
    return f"{head}: {counts}" + (f" ({e.detail})" if e.detail else "")


def _drill_started(e: Entry, p: _Page) -> str:
    return e.detail or e.scenario or e.subject


def _load_stage(e: Entry, p: _Page) -> str:
    return p.t("tl_users", users=int(e.count or 0))


def _load_stats(e: Entry, p: _Page) -> str:
    rps, failures = f"{e.count or 0:.1f}", f"{e.failures_per_s or 0:.1f}"
    return p.t("tl_rps", rps=rps, failures=failures)


# The entries this page words itself; the rest are worded by the shared timeline sentences.
_PAGE_WORDS: Mapping[EventType, Callable[[Entry, _Page], str]] = {
    "drill.started": _drill_started,
    "load.stage": _load_stage,
    "load.stats": _load_stats,
    "alert": _alert,
    "inject": _inject,
    "milestone": _milestone,
    "notification": _notice,
    "runbook": _runbook,
    "readiness": _readiness,
    "participant.joined": _joined,
    "note": _note,
    "amendment": _amendment,
}
