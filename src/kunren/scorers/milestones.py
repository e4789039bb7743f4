"""Placeholder until the scorer work lands."""

from __future__ import annotations

from kunren.plugins import Plugin


class MilestoneScorer(Plugin):
    available = False
