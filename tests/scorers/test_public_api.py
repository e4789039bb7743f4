"""The names other parts of kunren and plugin authors import stay where they are."""

from __future__ import annotations

import inspect

import kunren.reports
import kunren.scorers
from kunren.plugins import SCORERS, load
from kunren.record.importer import import_timeline
from kunren.scorers.milestones import MilestoneScorer


def test_the_public_surface_is_sorted_and_complete() -> None:
    for module in (kunren.scorers, kunren.reports):
        assert module.__all__ == sorted(module.__all__)
        assert all(hasattr(module, name) for name in module.__all__)


def test_signatures_the_conductor_and_cli_call() -> None:
    assert list(inspect.signature(kunren.scorers.score).parameters) == [
        "scenario",
        "events",
        "plugins",
        "timeline",
        "amendments",  # keyword-only: the record's amendments when events stream
    ]
    assert list(inspect.signature(kunren.reports.write_report).parameters) == [
        "drill_dirs",
        "fmt",
        "out",
        "lang",
        "drills_root",
        "plugins_dir",
    ]
    assert list(inspect.signature(import_timeline).parameters) == [
        "scenario_path",
        "csv_path",
        "drills_root",
        "start",
    ]


def test_the_built_in_scorer_is_registered_like_any_other() -> None:
    assert load(SCORERS, "milestones") is MilestoneScorer
    assert issubclass(MilestoneScorer, kunren.scorers.Scorer)
