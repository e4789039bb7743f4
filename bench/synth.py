"""A seeded generator of drill folders with valid records, for the scale-of-history benchmark.

A team that has run a quarterly game day for years, with hundreds of people and chatty alerting,
has a long series of large records. This writes such a series: every drill a folder with the
scenario snapshot and an ``events.jsonl`` of typed events (built as kunren's own event models,
so each line parses), seq strictly increasing, drill times in order, a week between drills.
Writing goes straight to the file (one fsync per drill, not per event): the records are
inputs here, not what is measured.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kunren.record import events as ev
from kunren.record.eventlog import EVENTS_FILE, SCENARIO_FILE

SERIES = "history-bench"
DURATION = 3600.0
ROLES = ("sre", "support", "engineer", "commander")
MILESTONES = ("detected", "acknowledged", "escalated", "triaged", "customer_notified")
LATE_MILESTONES = ("mitigated", "resolved")
ENDPOINTS = ("/", "/search", "/book")

SCENARIO = f"""\
version: 1
id: {SERIES}
title: Scale-of-history benchmark
duration: 60m
roles:
  sre: {{min: 1}}
  support: {{min: 2}}
  engineer: {{}}
  commander: {{min: 1}}
objectives:
  detected: {{within: 5m}}
  triaged: {{within: 15m, by: [sre, commander]}}
  customer_notified: {{within: 30m, by: support}}
  resolved: {{within: 45m}}
"""


def write_series(root: Path, drills: int, events_per_drill: int, seed: int = 42) -> list[Path]:
    """``drills`` drill folders under ``root``, oldest first."""
    rng = random.Random(seed)
    first = datetime(2024, 1, 9, 18, 0, tzinfo=timezone(timedelta(hours=9)))
    paths = []
    for n in range(drills):
        start = first + timedelta(weeks=n)
        drill_id = f"{SERIES}-{start:%Y%m%d-%H%M%S}"
        folder = root / drill_id
        folder.mkdir(parents=True)
        (folder / SCENARIO_FILE).write_text(SCENARIO, encoding="utf-8")
        lines = (
            e.model_dump_json() + "\n"
            for e in _drill(rng, drill_id, start, events_per_drill, skill=n / max(drills, 1))
        )
        with open(folder / EVENTS_FILE, "w", encoding="utf-8") as out:
            out.writelines(lines)
            out.flush()
            os.fsync(out.fileno())
        paths.append(folder)
    return paths


def _drill(
    rng: random.Random, drill_id: str, start: datetime, total: int, skill: float
) -> Iterator[ev.Event]:
    """One drill's events, in time order, numbered. ``skill`` 0..1: later drills are faster."""
    body = sorted(_body(rng, total - 2, skill), key=lambda pair: pair[0])
    head = ev.DrillStarted(
        drill=drill_id, scenario_id=SERIES, title="Scale-of-history benchmark", duration=DURATION
    )
    timeline = [(0.0, head), *body, (DURATION, ev.DrillEnded())]
    milestone_seqs: list[tuple[int, float]] = []
    for seq, (at, event) in enumerate(timeline, start=1):
        if isinstance(event, ev.Amendment):
            if not milestone_seqs:
                event = ev.Note(text="no milestone to amend yet")
            else:
                target, when = rng.choice(milestone_seqs)
                event = event.model_copy(update={"target_seq": target, "new_at": when - 30})
        if isinstance(event, ev.Milestone):
            milestone_seqs.append((seq, at))
        wall = (start + timedelta(seconds=at)).isoformat()
        yield event.model_copy(update={"seq": seq, "at": round(at, 3), "wall": wall})


def _body(rng: random.Random, count: int, skill: float) -> Iterator[tuple[float, ev.Event]]:
    # 300 people in a 20,000-event drill; fewer in smaller ones, so the mix stays the same
    crowd = max(12, min(300, count // 60))
    people = [(f"person-{i:03d}", ROLES[i % len(ROLES)]) for i in range(crowd)]
    made = 0

    def at(lo: float = 1.0, hi: float = DURATION - 1) -> float:
        return rng.uniform(lo, hi)

    fixed: list[tuple[float, ev.Event]] = []
    for actor, role in people:
        fixed.append((at(1, 300), ev.ParticipantJoined(actor=actor, role=role)))
        ready = ev.Readiness(actor=actor, role=role, tool="status page", ok=True)
        fixed.append((at(1, 600), ready))
    for index, fault in enumerate(("kill-web", "search-500", "db-failover")):
        begin = 300.0 + index * 600
        fixed += [
            (begin, ev.FaultInjecting(fault=fault, kind="testing.marker", planned=["x"])),
            (begin + 0.5, ev.FaultInjected(fault=fault, kind="testing.marker", targets=["x"])),
            (begin + 1200, ev.FaultReverting(fault=fault)),
            (begin + 1200.5, ev.FaultReverted(fault=fault, detail="removed")),
        ]
    for stage, (when, users) in enumerate(((0.5, 20), (600.0, 200), (1500.0, 20))):
        fixed.append((when + stage * 0.001, ev.LoadStage(users=users, spawn_rate=10)))
    for i in range(12):
        fixed.append((120.0 + i * 280, ev.Inject(kind="announcement", text=f"update {i}")))
    for probe in ("shop-health", "search"):
        # probes record state changes only: failed, recovered, failed… (3% of the record)
        changes = sorted(at() for _ in range(max(2, int(count * 0.015))))
        for index, when in enumerate(changes):
            change: ev.Event = (
                ev.ProbeFailed(probe=probe, detail="status 500")
                if index % 2 == 0
                else ev.ProbeRecovered(probe=probe)
            )
            fixed.append((when, change))
    speed = 1.6 - skill  # earlier drills are slower
    for actor, role in people:
        for name in MILESTONES:
            if rng.random() < 0.6:
                fixed.append(
                    (at(60, 1800 * speed), ev.Milestone(name=name, actor=actor, role=role))
                )
        for name in LATE_MILESTONES:
            if rng.random() < 0.3:
                fixed.append(
                    (at(1500, 2400 * speed), ev.Milestone(name=name, actor=actor, role=role))
                )
    for item in fixed[:count]:
        yield item
        made += 1
    stats_at = 1.0
    while made < count:
        kind = rng.random()
        if kind < 0.25 and stats_at < DURATION - 1:
            yield stats_at, _stats(rng)
            stats_at += 1.0
        elif kind < 0.50:
            name = rng.choice(("api-5xx-high", "latency-p99", "disk-full", "queue-depth"))
            status = rng.choice(("firing", "resolved"))
            yield at(), ev.Alert(source="alertmanager", name=name, status=status)
        elif kind < 0.75:
            yield at(), _notice(rng, people)
        elif kind < 0.80:
            actor, role = rng.choice(people)
            yield at(), ev.Runbook(runbook="restart-shop", actor=actor, role=role, detail="ok")
        elif kind < 0.81:
            yield at(), ev.Amendment(target_seq=1, new_at=0.0, reason="typed in late")
        else:
            actor, _ = rng.choice(people)
            text = "action: give support the admin page" if rng.random() < 0.05 else "looking"
            yield at(), ev.Note(text=text, actor=actor)
        made += 1


def _stats(rng: random.Random) -> ev.LoadStats:
    endpoints = [
        ev.EndpointStats(
            name=name,
            method="GET",
            rps=rng.uniform(10, 300),
            p50_ms=rng.uniform(5, 50),
            p95_ms=rng.uniform(50, 500),
        )
        for name in ENDPOINTS
    ]
    return ev.LoadStats(
        users=200,
        rps=sum(e.rps for e in endpoints),
        p50_ms=rng.uniform(5, 50),
        p95_ms=rng.uniform(50, 500),
        endpoints=endpoints,
    )


def _notice(rng: random.Random, people: list[tuple[str, str]]) -> ev.Notification:
    supporters = [p for p in people if p[1] == "support"]
    actor, role = rng.choice(supporters[:8])  # a few people send most notices
    return ev.Notification(
        notice=f"n{rng.randint(1, 400)}",
        status=rng.choice(("drafted", "approved", "sent")),
        audience="all-customers",
        template="investigating",
        lang="en",
        recipients=120,
        delivered=120,
        sender=actor,
        role=role,
        subject="[DRILL] Bookings are failing",
    )
