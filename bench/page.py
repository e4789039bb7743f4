"""Page under load: 300 simulated participants on a running drill's participant page.

A company-wide game day can have hundreds of people on the page at once, all pressing buttons in
the same few minutes. Here a real drill runs (``kunren run``, its page served by the conductor's
own process) and Locust (dogfooding, ``bench/locustfiles/participants.py``) brings 300 people:
each joins in a role, marks that role's milestones and polls the page state. Expected: no
request fails, and afterwards every milestone the page acknowledged is in the record exactly
once (and no person's milestone twice). p99 response time is reported beside the same flow with
10 people in the same drill just before (the baseline); the issue sets no number for it.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import (
    KUNREN,
    PYTHON,
    REPO,
    Child,
    Row,
    free_port,
    percentile,
    scratch,
    wait_for,
)
from kunren.record.eventlog import EventLog
from kunren.record.events import Milestone, ParticipantJoined
from kunren.scenarios.loader import load_scenario

NAME = "page: 300 participants on a drill's page"
LOCUSTFILE = REPO / "bench" / "locustfiles" / "participants.py"
SCENARIO = """\
version: 1
id: page-bench
title: Page benchmark
duration: 30m
roles:
  sre: {}
  support: {}
  engineer: {}
  commander: {}
"""


def _locust(
    host: str, env: dict[str, str], users: int, seconds: float, folder: Path
) -> dict[str, Any]:
    report = folder / f"locust-{users}"
    args = [PYTHON, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", host]
    args += ["-u", str(users), "-r", str(min(users, 50)), "-t", f"{seconds:g}s"]
    args += ["--only-summary", "--skip-log", "--json-file", str(report), "--stop-timeout", "5"]
    args += ["--csv", str(report)]  # for the failures' messages
    done = subprocess.run(
        args,
        cwd=folder,
        env={**_environ(), **env},
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    if done.returncode not in (0, 1):
        raise RuntimeError(f"locust exited {done.returncode}: {done.stderr[-800:]}")
    entries = json.loads(report.with_suffix(".json").read_text())
    summary = _summary(entries)
    summary["errors"] = _errors(report.with_name(report.name + "_failures.csv"))
    return summary


def _errors(failures_csv: Path) -> list[str]:
    """The distinct failures Locust saw, most frequent first: ``count× METHOD name: error``."""
    if not failures_csv.is_file():
        return []
    with open(failures_csv, newline="", encoding="utf-8") as rows:
        found = [
            (int(row["Occurrences"]), f"{row['Name']}: {row['Error'][:160]}")
            for row in csv.DictReader(rows)
        ]
    return [f"{n}× {text}" for n, text in sorted(found, reverse=True)]


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}


def _summary(entries: list[dict[str, Any]]) -> dict[str, Any]:
    times: list[float] = []
    per_name: dict[str, tuple[int, int]] = {}
    for entry in entries:
        per_name[entry["name"]] = (entry["num_requests"], entry["num_failures"])
        for ms, count in entry["response_times"].items():
            times += [float(ms)] * int(count)
    return {
        "requests": sum(n for n, _ in per_name.values()),
        "failures": sum(f for _, f in per_name.values()),
        "p50": percentile(times, 0.50) if times else float("nan"),
        "p99": percentile(times, 0.99) if times else float("nan"),
        "per_name": per_name,
    }


def _check_record(drill: Path, acks_file: Path) -> list[str]:
    events = EventLog(drill).read()
    by_seq = {e.seq: e for e in events}
    marks = Counter((e.actor, e.name) for e in events if isinstance(e, Milestone))
    joins = Counter(e.actor for e in events if isinstance(e, ParticipantJoined))
    problems = []
    acks = [json.loads(line) for line in acks_file.read_text().splitlines() if line.strip()]
    for ack in acks:
        event = by_seq.get(ack["seq"])
        if not isinstance(event, Milestone) or (event.actor, event.name) != (
            ack["actor"],
            ack["milestone"],
        ):
            problems.append(f"acknowledged {ack} is not in the record as such")
        elif marks[(event.actor, event.name)] != 1:
            problems.append(f"{ack} recorded {marks[(event.actor, event.name)]} times")
    problems += [f"{actor} joined {n} times" for actor, n in joins.items() if n > 1]
    problems += [f"{key} recorded {n} times" for key, n in marks.items() if n > 1]
    if not acks:
        problems.append("no milestone was acknowledged")
    return problems


def run(quick: bool) -> list[Row]:
    users, seconds, base_seconds = (300, 12.0, 5.0) if quick else (300, 45.0, 15.0)
    with scratch("page-") as folder:
        scenario = folder / "page.yaml"
        scenario.write_text(SCENARIO, encoding="utf-8")
        roles = load_scenario(scenario).scenario
        milestones = {role: list(roles.milestones_for_role(role)) for role in roles.roles}
        port = free_port()
        args = [*KUNREN, "run", str(scenario), "--port", str(port), "--no-report", "-q", "--yes"]
        conductor = Child(args, cwd=folder, log=folder / "conductor.log")
        try:
            tokens = _wait_for_page(folder, port)
            acks = folder / "acks.jsonl"
            env = {
                "KUNREN_BENCH_TOKEN": tokens["participant"],
                "KUNREN_BENCH_ROLES": json.dumps(milestones),
                "KUNREN_BENCH_ACKS": str(acks),
            }
            host = f"http://127.0.0.1:{port}"
            base = _locust(host, env, 10, base_seconds, folder)
            loaded = _locust(host, env, users, seconds, folder)
        finally:
            conductor.stop(grace=30)  # SIGTERM: the conductor aborts the drill and exits
        drill = next(p for p in (folder / "drills").iterdir() if p.is_dir())
        problems = _check_record(drill, acks)
        acked = len(acks.read_text().splitlines())
    ratio = loaded["p99"] / base["p99"]
    failures = base["failures"] + loaded["failures"]
    detail = ", ".join(f"{name} {n:,}" for name, (n, _) in sorted(loaded["per_name"].items()))
    return [
        Row(
            NAME,
            f"p99 {loaded['p99']:.0f} ms",
            f"p99 {base['p99']:.0f} ms (10 people)",
            ratio,
            f"{ratio:.1f}×",
            None,
            [
                f"{users} people for {seconds:g} s: {loaded['requests']:,} requests "
                f"({detail}), {loaded['failures']} failed; p50 {loaded['p50']:.0f} ms, "
                f"p99 {loaded['p99']:.0f} ms",
                f"10 people for {base_seconds:g} s: {base['requests']:,} requests, "
                f"{base['failures']} failed; p50 {base['p50']:.0f} ms, p99 {base['p99']:.0f} ms",
                f"{acked} acknowledged milestones checked against the record: "
                + ("each exactly once" if not problems else f"{len(problems)} problems"),
                *(f"failure: {error}" for error in (base["errors"] + loaded["errors"])[:8]),
                *problems[:10],
            ],
            holds=failures == 0 and not problems,
            expect="0 errors; every ack once",
        )
    ]


def _wait_for_page(folder: Path, port: int) -> dict[str, str]:
    found: list[Path] = []

    def tokens_written() -> bool:
        found[:] = list((folder / "drills").glob("*/.web-tokens.json"))
        return bool(found) and found[0].read_text().strip().endswith("}")

    wait_for(tokens_written, 60, "the drill's page (tokens file)")
    tokens: dict[str, str] = json.loads(found[0].read_text())
    url = f"http://127.0.0.1:{port}/api/state"
    wait_for(lambda: _answers(url, tokens["participant"]), 30, "the drill's page")
    return tokens


def _answers(url: str, token: str) -> bool:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"X-Kunren-Token": token})
    try:
        with urllib.request.urlopen(request, timeout=2.0) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False
