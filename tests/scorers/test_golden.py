"""Golden tests: three quarterly drills typed in with ``kunren import`` score exactly as recorded.

The records are in tests/fixtures/timelines/drills (see records.py there). Among them: a
censored milestone (nobody notified customers in Q1), a drill stopped early (Q3), several
people per role, and a facilitator's amendment. After an intended change, rewrite the golden
files with ``KUNREN_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kunren.cli import main
from kunren.reports.records import score_drill
from kunren.scorers import Scorecard
from tests.fixtures.timelines.records import DRILLS, Q1, Q2, Q3

GOLDEN = DRILLS.parent / "golden"
UPDATE = os.environ.get("KUNREN_UPDATE_GOLDEN") == "1"


def card(drill: str) -> Scorecard:
    return score_drill(DRILLS / drill).model_copy(update={"record": None})


@pytest.mark.parametrize("drill", [Q1, Q2, Q3])
def test_scorecard_json_matches_the_golden_file(drill: str) -> None:
    path = GOLDEN / f"{drill}.json"
    text = card(drill).model_dump_json(indent=2) + "\n"
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_the_trend_of_the_series_is_printed_exactly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    drills = tmp_path / "drills"  # a copy: the trend keeps its series index in the folder
    shutil.copytree(DRILLS, drills)
    with pytest.raises(SystemExit) as done:
        main(["trend", "web-outage", "--drills", str(drills)])
    assert done.value.code == 0
    assert capsys.readouterr().out.splitlines() == [
        f"series web-outage: {Q1} (imported) → {Q2} (imported) → {Q3} (imported)",
        "detected: 7 min → 4 min → 45 s  (improved)",
        "acknowledged: 8 min → 4 min → 2 min  (improved)",
        "escalated: 60+ min → 60+ min → 5 min  (improved)",
        "triaged: 20 min → 16 min → 12 min  (improved)",
        "customer_notified: 60+ min → 44 min → 31 min  (improved)",
        "mitigated: 48 min → 35 min → 38 min  (worse)",
        "resolved: 52 min → 40 min → 50+ min  (worse)",
        "status_page_updated: 60+ min → 60+ min → 22 min  (improved)",
    ]


def test_q1_nobody_notified_customers_so_it_is_censored_at_the_drill_length() -> None:
    notified = card(Q1).milestones["customer_notified"]
    assert (notified.seconds, notified.censored, notified.display) == (None, True, "60+ min")
    assert notified.objective is not None and notified.objective.met is False


def test_q3_was_stopped_early_so_resolved_is_censored_at_50_minutes() -> None:
    q3 = card(Q3)
    assert (q3.ended, q3.ended_at, q3.end_reason) == ("ended", 3000, "stopped early for staging")
    assert q3.milestones["resolved"].display == "50+ min"


def test_q3_amendment_moves_dave_s_triage_and_keeps_the_recorded_time() -> None:
    triaged = card(Q3).milestones["triaged"]
    assert (triaged.by, triaged.display, triaged.recorded_seconds) == ("dave", "12 min", 840)
    assert triaged.per_role["commander"].by == "frank"


def test_q3_several_people_per_role() -> None:
    q3 = card(Q3)
    assert q3.team_health.people == {
        "sre": ["dave", "erin"],
        "support": ["alice", "bob", "carol"],
        "commander": ["frank"],
    }
    notified = q3.milestones["customer_notified"]
    assert {who: t.display for who, t in notified.per_person.items()} == {
        "bob": "31 min",
        "carol": "34 min",
        "alice": "44 min",
    }
    assert q3.team_health.notice_senders == 3
