"""Drills of one series compared in the order they were run: "60+ min → 44 min → 31 min".

The series is the scenario id; the order is each drill's ``drill.started`` wall time. Each
point is the milestone's headline (with a ``by:`` objective, the time its roles reached it)
and carries the drill's provenance (live, imported, tabletop; clock), so a simulated rehearsal
is never mistaken for a live result. Drills stopped before T0 are left out and listed. A
censored time is only a lower bound, so "improved" is claimed only when the bound proves it
(55+ min then 31 min), and left unknown when it cannot (20+ min then 31 min).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from kunren.errors import UsageError
from kunren.scorers.card import Change, Scorecard, Trend, TrendLine, TrendPoint
from kunren.scorers.display import format_timing, join_trend


def started_key(card: Scorecard) -> tuple[float, str]:
    """Sort key: wall time of drill.started (drills without one sort first), then the drill id."""
    try:
        return datetime.fromisoformat(card.started).timestamp(), card.drill
    except ValueError:
        return float("-inf"), card.drill


def trend(cards: Sequence[Scorecard], notices: Sequence[str] = ()) -> Trend:
    """The trend of every milestone across ``cards`` (all of one series), oldest first."""
    if not cards:
        raise UsageError("no drills to compare")
    series = {card.series for card in cards}
    if len(series) > 1:
        raise UsageError(
            f"drills of different series cannot be compared: {', '.join(sorted(series))}"
        )
    ordered = sorted(cards, key=started_key)
    left_out = [card for card in ordered if not comparable(card)]
    ordered = [card for card in ordered if comparable(card)] or ordered[-1:]
    return Trend(
        series=ordered[0].series,
        drills=[card.drill for card in ordered],
        lines=[_line(ordered, name) for name in _milestones(ordered)],
        notices=list(notices),
        not_comparable=[card.drill for card in left_out if card not in ordered],
        provenance={card.drill: card.provenance for card in ordered},
    )


def comparable(card: Scorecard) -> bool:
    """A drill stopped before T0 (a busy port, a service that would not start) measured
    nothing: its "0+ s" would read as a result, so it stays out of the series."""
    return not (
        card.ended == "aborted" and (card.t0.basis == "drill_start" or card.observed_seconds <= 0)
    )


def _milestones(cards: list[Scorecard]) -> list[str]:
    """Milestones worth a trend: held to an objective, or reached in at least one drill.

    They keep the latest drill's order (the scenario's), then any only earlier drills had.
    """
    order = list(dict.fromkeys(name for card in reversed(cards) for name in card.milestones))
    return [
        name
        for name in order
        if any(
            m.objective is not None or not m.censored
            for m in (card.milestones.get(name) for card in cards)
            if m is not None
        )
    ]


def _line(cards: list[Scorecard], name: str) -> TrendLine:
    points = []
    latest = next(c.milestones[name] for c in reversed(cards) if name in c.milestones)
    within = None
    for card in cards:
        m = card.milestones.get(name)
        if m is None:
            points.append(
                TrendPoint(
                    drill=card.drill,
                    started=card.started,
                    seconds=None,
                    censored=False,
                    display="–",
                )
            )
            continue
        if m.objective is not None:
            within = m.objective.within_seconds
        shown = m.headline()
        points.append(
            TrendPoint(
                drill=card.drill,
                started=card.started,
                seconds=shown.seconds,
                censored=shown.censored,
                bound_seconds=shown.bound_seconds,
                display=shown.display,
                before_t0=shown.before_t0,
                source=shown.source,
                provenance=card.provenance,
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
