"""The live status line's progress, kept per event, says exactly what scoring the record says.

``ProgressTracker`` replaced scoring the whole record on every new event (quadratic in a long
drill). Its answer must not change: after every event of the golden drill records, and of
seeded random records built to hit each rule (marks before T0 and after the end, people who
marked without a role and joined later, amendments of marks and of the first fault, notices
sent and failed, T0 by impact), it equals ``progress`` (the scorer) on the record so far; and
the status lines drawn from the golden drill are the ones committed (made by the scorer path).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kunren.cli.live import status_line
from kunren.cli.progress import Progress, ProgressTracker, progress
from kunren.record.events import (
    Amendment,
    DrillEnded,
    DrillStarted,
    Event,
    FaultInjected,
    LoadStats,
    Milestone,
    Note,
    Notification,
    ParticipantJoined,
    ProbeFailed,
)
from kunren.record.stream import read_record
from kunren.scenarios.loader import load_scenario
from kunren.scenarios.models import Scenario

FIXTURES = Path(__file__).parent.parent / "fixtures"
DRILLS = sorted(d for d in (FIXTURES / "timelines" / "drills").iterdir() if d.is_dir())
SCENARIO = FIXTURES / "scenarios" / "web-outage.yaml"
GOLDEN = Path(__file__).parent / "golden" / "status-lines.txt"
PEOPLE = ("aiko", "ben", "chen", "dana", "eri")
ROLES = ("sre", "support", "commander", None)
NAMES = ("detected", "triaged", "resolved", "status_page_updated", "customer_notified")


def web_outage() -> Scenario:
    return load_scenario(SCENARIO).scenario


def each_prefix(scenario: Scenario, events: list[Event]) -> list[tuple[Progress, Progress]]:
    """(kept per event, scored afresh) after each event from ``drill.started`` on."""
    tracker = ProgressTracker(scenario)
    pairs = []
    for index, event in enumerate(events):
        tracker.add(event)
        if index > 0:
            pairs.append((tracker.progress, progress(scenario, events[: index + 1])))
    return pairs


@pytest.mark.parametrize("drill", DRILLS, ids=[d.name for d in DRILLS])
def test_after_every_event_of_a_golden_drill_the_tracker_says_what_the_scorer_says(
    drill: Path,
) -> None:
    events = read_record(drill / "events.jsonl").events
    pairs = each_prefix(web_outage(), events)

    assert len(pairs) == len(events) - 1 > 10
    for index, (kept, scored) in enumerate(pairs, start=1):
        assert kept == scored, f"after event #{events[index].seq}"
    assert len({scored for _, scored in pairs}) > 2  # the status changes as the drill goes


def random_record(rng: random.Random, end: bool) -> list[Event]:
    """A drill of about 40 events hitting every rule the status line depends on."""
    events: list[Event] = [
        DrillStarted(drill="d", scenario_id="web-outage", duration=3600, clock="virtual")
    ]
    at = 0.0
    for _ in range(rng.randint(20, 45)):
        at += rng.choice([0.0, 5.0, 30.0, 90.0])
        person = rng.choice(PEOPLE)
        kind = rng.random()
        event: Event
        if kind < 0.08:
            event = FaultInjected(fault=rng.choice(["a", "b"]), at=at)
        elif kind < 0.14:
            event = ProbeFailed(probe="shop", at=at)
        elif kind < 0.26:
            role = rng.choice(("sre", "support", "commander"))
            event = ParticipantJoined(actor=person, role=role, at=at)
        elif kind < 0.60:
            late = rng.random() < 0.15  # a mark given an earlier time (kunren mark --at)
            when = max(0.0, at - rng.choice([60.0, 600.0])) if late else at
            event = Milestone(name=rng.choice(NAMES), actor=person, role=rng.choice(ROLES), at=when)
        elif kind < 0.68:
            status = rng.choice(["sent", "sent", "failed", "drafted"])
            event = Notification(status=status, sender=rng.choice([*PEOPLE, ""]), at=at)
        elif kind < 0.76 and len(events) > 2:
            target = rng.choice(events[1:])
            shift = rng.choice([-900.0, -60.0, 120.0, 1200.0])
            event = Amendment(target_seq=target.seq, new_at=max(0.0, target.at + shift), at=at)
        elif kind < 0.88:
            event = LoadStats(at=at) if rng.random() < 0.5 else Note(text="n", at=at)
        else:
            continue
        events.append(event)
        if end and rng.random() < 0.05:
            events.append(DrillEnded(at=at))
            end = False
    return [e.model_copy(update={"seq": i}) for i, e in enumerate(events, start=1)]


@pytest.mark.parametrize("t0", ["first_fault", "impact"])
def test_after_every_event_of_random_records_the_tracker_says_what_the_scorer_says(
    t0: str,
) -> None:
    scenario = web_outage().model_copy(update={"t0": t0})
    rng = random.Random(17)
    compared = 0
    for n in range(40):
        events = random_record(rng, end=n % 2 == 0)
        for index, (kept, scored) in enumerate(each_prefix(scenario, events), start=1):
            assert kept == scored, f"record {n}, after event #{events[index].seq}: {events}"
            compared += 1
    assert compared > 1000


def test_an_event_given_twice_counts_once_and_a_quiet_event_changes_nothing() -> None:
    scenario = web_outage()
    started = DrillStarted(seq=1, drill="d", scenario_id="web-outage", duration=3600)
    fault = FaultInjected(seq=2, at=10.0, fault="a")
    mark = Milestone(seq=3, at=70.0, name="detected", actor="aiko", role="sre")
    tracker = ProgressTracker(scenario)
    for event in (started, fault, mark, mark, LoadStats(seq=3, at=80.0)):
        tracker.add(event)

    assert tracker.progress == progress(scenario, [started, fault, mark])
    assert tracker.progress.t0 == 10.0
    assert tracker.progress.objectives[0].met_after == 60.0


def golden_lines() -> list[str]:
    """The status line after each event of the third golden drill, drawn at its time."""
    scenario = web_outage()
    events = read_record(DRILLS[-1] / "events.jsonl").events
    tracker = ProgressTracker(scenario)
    lines = []
    for event in events:
        tracker.add(event)
        lines.append(status_line(event.at, scenario.duration, None, tracker.progress))
    return lines


def test_the_status_lines_of_a_golden_drill_are_the_committed_ones() -> None:
    assert golden_lines() == GOLDEN.read_text(encoding="utf-8").splitlines()
