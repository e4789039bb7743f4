"""Notice quality and cadence: what each customer notice lacked, and whether the promised
next update came on time.

A status page tool times the first notice; the drill also asks whether it was any good. Each
sent notice carries, in its ``notification`` event, the scenario checklist items it did not
meet (``lacking``) and the drill time of the next update it promised (``next_update_at``),
both recorded by the notice service when it sent. From those alone (the record, nothing else)
this scorer says, per notice, what it lacked, and for each promise, when the next notice
actually went out: on time, late by how much, or (when the drill ended first) not yet, which
is censored and never shown as a measured number.

It is a scorer plugin like any other: registered as the entry point ``notice_quality`` in
``kunren.scorers`` (or passed to ``score``), its metrics and findings appear in the report's
plugin section.
"""

from __future__ import annotations

from dataclasses import dataclass

from kunren.durations import format_clock
from kunren.record.events import Event, Notification
from kunren.scorers.base import Scorer, ScoringContext
from kunren.scorers.card import Metric, ScorerResult
from kunren.scorers.display import format_timing


@dataclass(frozen=True)
class SentNotice:
    """A notice's first send, as the record has it."""

    notice: str
    template: str
    sender: str
    at: float
    lacking: tuple[str, ...]
    next_update_at: float | None


@dataclass(frozen=True)
class Cadence:
    """One promise of a next update, against the next notice that went out."""

    notice: SentNotice
    promised_at: float
    next_at: float | None  # None: no notice followed before the drill ended

    def late_by(self, end: float) -> tuple[float, bool]:
        """(seconds late, censored): censored when no update came and the drill ended
        after the promise, so the delay is at least the seconds given."""
        if self.next_at is not None:
            return max(0.0, self.next_at - self.promised_at), False
        return max(0.0, end - self.promised_at), True


def sent_notices(events: list[Event]) -> list[SentNotice]:
    """Every notice that went out, once each, in the order it first went out."""
    first: dict[str, Notification] = {}
    for event in events:
        if isinstance(event, Notification) and event.status == "sent" and event.notice:
            first.setdefault(event.notice, event)
    return [
        SentNotice(
            notice=e.notice,
            template=e.template,
            sender=e.sender,
            at=e.at,
            lacking=tuple(e.lacking),
            next_update_at=e.next_update_at,
        )
        for e in sorted(first.values(), key=lambda e: (e.at, e.seq))
    ]


def cadence(notices: list[SentNotice]) -> list[Cadence]:
    """Each promise against the first notice sent after the promising one."""
    rows = []
    for index, notice in enumerate(notices):
        if notice.next_update_at is None:
            continue
        later = next((n.at for n in notices[index + 1 :] if n.at > notice.at), None)
        rows.append(Cadence(notice=notice, promised_at=notice.next_update_at, next_at=later))
    return rows


class NoticeQualityScorer(Scorer):
    """What each notice lacked of the checklist, and whether each promised update came."""

    name = "notice_quality"
    summary = "Customer notices: checklist items missed, and promised updates late or on time"

    def score(self, ctx: ScoringContext) -> ScorerResult:
        notices = sent_notices(ctx.events)
        if not notices:
            return ScorerResult()
        checklist = ctx.scenario.notifications.checklist if ctx.scenario.notifications else []
        findings: list[str] = []
        metrics = [Metric(name="notices_sent", label="Notices sent", value=float(len(notices)))]
        if checklist:
            lacking = [n for n in notices if n.lacking]
            metrics.append(
                Metric(
                    name="notices_lacking",
                    label="Notices missing a checklist item",
                    value=float(len(lacking)),
                    display=f"{len(lacking)} of {len(notices)}",
                )
            )
            findings += [f"{_name(n)} lacked: {', '.join(n.lacking)}" for n in lacking]
        findings += self._cadence(ctx, notices, metrics)
        return ScorerResult(metrics=metrics, findings=findings)

    def _cadence(
        self, ctx: ScoringContext, notices: list[SentNotice], metrics: list[Metric]
    ) -> list[str]:
        rows = [row for row in cadence(notices) if row.promised_at <= ctx.end or row.next_at]
        if not rows:
            return []
        findings = []
        worst: tuple[float, bool] = (0.0, False)
        late = 0
        for row in rows:
            seconds, censored = row.late_by(ctx.end)
            promised = f"T+{format_clock(row.promised_at)}"
            if censored:
                findings.append(
                    f"{_name(row.notice)} promised the next update by {promised}; none went "
                    f"out before the drill ended ({format_timing(seconds, censored=True)} late)"
                )
            elif seconds > 0:
                assert row.next_at is not None
                findings.append(
                    f"{_name(row.notice)} promised the next update by {promised}; it went out "
                    f"at T+{format_clock(row.next_at)}, {format_timing(seconds)} late"
                )
            if seconds > 0:
                late += 1
                worst = max(worst, (seconds, censored))
        metrics.append(
            Metric(
                name="updates_late",
                label="Promised updates that came late",
                value=float(late),
                display=f"{late} of {len(rows)}",
            )
        )
        seconds, censored = worst
        metrics.append(
            Metric(
                name="worst_update_delay",
                label="Longest wait past a promised update",
                value=seconds,
                unit="s",
                display=format_timing(seconds, censored=censored),
                censored=censored,
            )
        )
        return findings


def _name(notice: SentNotice) -> str:
    by = f", {notice.sender}" if notice.sender else ""
    return f"notice {notice.notice} ({notice.template}{by}, T+{format_clock(notice.at)})"
