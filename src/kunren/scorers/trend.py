"""Drills of one series compared in the order they were run: "60+ min → 44 min → 31 min".

The series is the scenario id; the order is each drill's ``drill.started`` wall time. Each
point is the milestone's headline (with a ``by:`` objective, the time its roles reached it)
and carries the drill's provenance (live, imported, tabletop; clock), so a simulated rehearsal
is never mistaken for a live result. Drills stopped before T0 are left out and listed. A
censored time is only a lower bound, so "improved" is claimed only when the bound proves it
(55+ min then 31 min), and left unknown when it cannot (20+ min then 31 min).

A trend reads a few numbers of each drill, not its whole Scorecard: ``summarize`` keeps them
as a ``DrillSummary`` (what the drills folder's scorecard index stores for earlier drills), and
``trend_of`` compares summaries; ``trend`` is the same over Scorecards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from kunren.errors import UsageError
from kunren.record.timeline import DrillProvenance
from kunren.scorers.card import (
    CardModel,
    Change,
    MilestoneResult,
    Scorecard,
    Trend,
    TrendLine,
    TrendPoint,
)
from kunren.scorers.display import format_timing, join_trend


class TrendMilestone(CardModel):
    """One milestone of one drill as the trend shows it: its headline (with a ``by:``
    objective, the time its roles reached it) and whether it was held to an objective."""

    label: str
    label_ja: str
    within_seconds: float | None = None  # the objective's limit; None: no objective
    reached: bool  # by anyone (a line is drawn for milestones someone reached)
    seconds: float | None
    censored: bool
    bound_seconds: float | None = None
    display: str
    before_t0: bool = False
    source: str | None = None  # who produced the mark: participant, simulated, import…


class DrillSummary(CardModel):
    """What a series keeps of one drill: the numbers its trend shows, with their labels.

    The labels are the honest part: ``provenance`` says live, imported or tabletop, on which
    clock (real, scaled ×N, virtual) and whether people were simulated; each milestone keeps
    who produced its mark. A trend built from summaries is the trend built from the cards.
    """

    drill: str
    series: str
    started: str
    ended: Literal["ended", "aborted", "running"]
    t0_basis: Literal["first_fault", "impact", "drill_start"]
    observed_seconds: float
    provenance: DrillProvenance
    milestones: dict[str, TrendMilestone]


def summarize(card: Scorecard) -> DrillSummary:
    """The part of ``card`` a trend reads."""
    return DrillSummary(
        drill=card.drill,
        series=card.series,
        started=card.started,
        ended=card.ended,
        t0_basis=card.t0.basis,
        observed_seconds=card.observed_seconds,
        provenance=card.provenance,
        milestones={name: _milestone(m) for name, m in card.milestones.items()},
    )


def _milestone(m: MilestoneResult) -> TrendMilestone:
    shown = m.headline()
    return TrendMilestone(
        label=m.label,
        label_ja=m.label_ja,
        within_seconds=m.objective.within_seconds if m.objective is not None else None,
        reached=not m.censored,
        seconds=shown.seconds,
        censored=shown.censored,
        bound_seconds=shown.bound_seconds,
        display=shown.display,
        before_t0=shown.before_t0,
        source=shown.source,
    )


def started_key(card: Scorecard | DrillSummary) -> tuple[float, str]:
    """Sort key: wall time of drill.started (drills without one sort first), then the drill id."""
    try:
        return datetime.fromisoformat(card.started).timestamp(), card.drill
    except ValueError:
        return float("-inf"), card.drill


def trend(cards: Sequence[Scorecard], notices: Sequence[str] = ()) -> Trend:
    """The trend of every milestone across ``cards`` (all of one series), oldest first."""
    return trend_of([summarize(card) for card in cards], notices)


def trend_of(drills: Sequence[DrillSummary], notices: Sequence[str] = ()) -> Trend:
    """``trend`` over summaries: what the report and ``kunren trend`` build from the index."""
    if not drills:
        raise UsageError("no drills to compare")
    series = {drill.series for drill in drills}
    if len(series) > 1:
        raise UsageError(
            f"drills of different series cannot be compared: {', '.join(sorted(series))}"
        )
    ordered = sorted(drills, key=started_key)
    left_out = [drill for drill in ordered if not comparable(drill)]
    ordered = [drill for drill in ordered if comparable(drill)] or ordered[-1:]
    return Trend(
        series=ordered[0].series,
        drills=[drill.drill for drill in ordered],
        lines=[_line(ordered, name) for name in _milestones(ordered)],
        notices=list(notices),
        not_comparable=[drill.drill for drill in left_out if drill not in ordered],
        provenance={drill.drill: drill.provenance for drill in ordered},
    )


def comparable(drill: DrillSummary) -> bool:
    """A drill stopped before T0 (a busy port, a service that would not start) measured
    nothing: its "0+ s" would read as a result, so it stays out of the series."""
    return not (
        drill.ended == "aborted"
        and (drill.t0_basis == "drill_start" or drill.observed_seconds <= 0)
    )


def _milestones(drills: list[DrillSummary]) -> list[str]:
    """Milestones worth a trend: held to an objective, or reached in at least one drill.

    They keep the latest drill's order (the scenario's), then any only earlier drills had.
    """
    order = list(dict.fromkeys(name for drill in reversed(drills) for name in drill.milestones))
    return [
        name
        for name in order
        if any(
            m.within_seconds is not None or m.reached
            for m in (drill.milestones.get(name) for drill in drills)
            if m is not None
        )
    ]


def _line(drills: list[DrillSummary], name: str) -> TrendLine:
    points = []
    latest = next(d.milestones[name] for d in reversed(drills) if name in d.milestones)
    within = None
    for drill in drills:
        m = drill.milestones.get(name)
        if m is None:
            points.append(
                TrendPoint(
                    drill=drill.drill,
                    started=drill.started,
                    seconds=None,
                    censored=False,
                    display="–",
                )
            )
            continue
        if m.within_seconds is not None:
            within = m.within_seconds
        points.append(
            TrendPoint(
                drill=drill.drill,
                started=drill.started,
                seconds=m.seconds,
                censored=m.censored,
                bound_seconds=m.bound_seconds,
                display=m.display,
                before_t0=m.before_t0,
                source=m.source,
                provenance=drill.provenance,
            )
        )
    change = _change(points)
    return TrendLine(
        milestone=name,
        label=latest.label,
        label_ja=latest.label_ja,
        points=points,
        display=join_trend([p.display for p in points]),
        change=change,
        improved={"improved": True, "worse": False, "same": False}.get(change),
        within_seconds=within,
    )


def _change(points: list[TrendPoint]) -> Change:
    if len(points) < 2:
        return "first"
    before, last = points[-2], points[-1]
    if last.seconds is not None and before.seconds is not None:
        if format_timing(last.seconds) == format_timing(before.seconds):
            return "same"
        return "improved" if last.seconds < before.seconds else "worse"
    if last.seconds is not None and before.censored and before.bound_seconds is not None:
        return "improved" if last.seconds < before.bound_seconds else "unknown"
    if last.censored and last.bound_seconds is not None and before.seconds is not None:
        return "worse" if last.bound_seconds >= before.seconds else "unknown"
    return "unknown"
