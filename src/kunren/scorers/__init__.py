"""Scoring a drill: milestone timings, objectives, team health and trends, from the record alone.

``score(scenario, events)`` is pure (no I/O, no clock) and returns a frozen ``Scorecard``;
``trend(cards)`` compares drills of one series. Team-local and installed scorers derive from
``Scorer`` (see ``kunren.scorers.base``) and are found by ``load_scorers``.
"""

from __future__ import annotations

from kunren.scorers.base import Scorer, ScoringContext
from kunren.scorers.card import (
    Gap,
    Metric,
    MilestoneResult,
    NextUpdate,
    Notice,
    ObjectiveResult,
    Scorecard,
    ScorerResult,
    Timing,
    Trend,
    TrendLine,
)
from kunren.scorers.display import format_timing
from kunren.scorers.loading import load_scorers
from kunren.scorers.milestones import MilestoneScorer
from kunren.scorers.score import score
from kunren.scorers.trend import trend

__all__ = [
    "Gap",
    "Metric",
    "MilestoneResult",
    "MilestoneScorer",
    "NextUpdate",
    "Notice",
    "ObjectiveResult",
    "Scorecard",
    "Scorer",
    "ScorerResult",
    "ScoringContext",
    "Timing",
    "Trend",
    "TrendLine",
    "format_timing",
    "load_scorers",
    "score",
    "trend",
]
