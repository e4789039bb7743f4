"""Scorer plugins: team-local files in a folder, installed entry points, and their failures."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kunren.errors import PluginError
from kunren.reports.records import score_drill
from kunren.scorers import load_scorers, score
from kunren.scorers.loading import installed_scorers
from tests.fixtures.timelines.records import DRILLS, Q1, Q2
from tests.scorers.helpers import record, scenario

REPO = Path(__file__).resolve().parents[2]


def write(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


COUNTER = """
    from kunren.scorers import Metric, Scorer, ScorerResult, ScoringContext

    class EventCount(Scorer):
        name = "event-count"

        def score(self, ctx: ScoringContext) -> ScorerResult:
            return ScorerResult(
                metrics=[Metric(name="events", value=len(ctx.events))],
                findings=[f"t0 at {ctx.t0:g}"],
            )
"""


def test_a_scorer_in_the_plugins_folder_adds_its_section(tmp_path: Path) -> None:
    folder = tmp_path / "scorers"
    write(folder, "count.py", COUNTER)
    write(folder, "_shared.py", "raise RuntimeError('helpers are not loaded as plugins')\n")
    plugins = load_scorers(folder, installed=False)
    assert [p.name for p in plugins] == ["event-count"]
    card = score(scenario(), record(fault_at=30), plugins)
    (result,) = card.scorers
    assert (result.scorer, result.metrics[0].value, result.findings) == (
        "event-count",
        3,
        ["t0 at 30"],
    )


def test_the_example_in_the_workspace_scorers_folder_works() -> None:
    plugins = load_scorers(REPO / "scorers", installed=False)
    assert [p.name for p in plugins] == ["notice-after-detection"]
    q1 = score_drill(DRILLS / Q1, plugins).scorers[0]
    q2 = score_drill(DRILLS / Q2, plugins).scorers[0]
    assert [(m.display, m.censored) for m in q1.metrics] == [("53+ min", True)]
    assert q1.findings == ["customers were never told, though the team knew"]
    assert [m.display for m in q2.metrics] == ["40 min"]
    assert q2.findings == ["customers heard 40 min after alice noticed (our bar: 15 min)"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("def broken(:\n", "cannot load scorer: SyntaxError"),
        ("import no_such_module_here\n", "cannot load scorer: ModuleNotFoundError"),
        ("X = 1\n", "defines no Scorer subclass"),
    ],
)
def test_a_plugin_file_that_cannot_load_is_named(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path / "scorers", "bad.py", body)
    with pytest.raises(PluginError) as caught:
        load_scorers(tmp_path / "scorers", installed=False)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_a_missing_plugins_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="no such plugins folder"):
        load_scorers(tmp_path / "nope", installed=False)


@pytest.mark.parametrize(
    ("returns", "message"),
    [
        ("1 / 0", "scorer divider failed: ZeroDivisionError: division by zero"),
        ("'text'", "scorer divider returned str, expected a ScorerResult"),
    ],
)
def test_a_scorer_that_fails_is_a_plugin_error(tmp_path: Path, returns: str, message: str) -> None:
    write(
        tmp_path / "scorers",
        "divider.py",
        f"""
        from kunren.scorers import Scorer

        class Divider(Scorer):
            name = "divider"

            def score(self, ctx):
                return {returns}
        """,
    )
    plugins = load_scorers(tmp_path / "scorers", installed=False)
    with pytest.raises(PluginError, match=message):
        score(scenario(), record(), plugins)


def test_installed_scorers_leave_out_the_built_in_one() -> None:
    assert all(cls.name != "milestones" for cls in installed_scorers())


def test_the_built_in_milestone_scorer_also_runs_as_a_plugin() -> None:
    from kunren.scorers import MilestoneScorer

    card = score(scenario(), record(), [MilestoneScorer])
    (result,) = card.scorers
    assert result.scorer == "milestones"
    assert [(m.name, m.display, m.censored) for m in result.metrics][:2] == [
        ("detected", "60+ min", True),
        ("acknowledged", "60+ min", True),
    ]
