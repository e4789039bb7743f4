"""Page under load: 1,000 simulated participants on a running drill's participant page.

A company-wide game day can have a thousand people on the page at once, all pressing buttons in
the same few minutes. Here a real drill runs (``kunren run``, its page served by the conductor's
own process) and Locust (dogfooding, ``bench/locustfiles/participants.py``) brings 1,000
people, 50 a second, each at a random moment of its second (as people opening a link each in
their own time arrive): each joins in a role, loads the page, holds its event stream
(server-sent events: the page is pushed its updates, it does not poll) and marks that role's
milestones. Expected: no request fails, the requests' p99 is within 100 ms, and afterwards
every milestone the page acknowledged is in the record exactly once (and no person's milestone
twice). Then the same 1,000 again in Locust's own batches (each second's 50 started in the
same few milliseconds), the stress case: reported, held to no errors and every milestone once,
not to the p99. Reported beside:
how soon a mark reached its person's own stream and the facilitator's (held by the benchmark),
the page server's CPU time per participant and per request (from /proc, the conductor's
process: the page is a task in its loop), the same flow with 10 people in the same drill just
before (the baseline), and the load average: server and Locust share the machine's cores.
``--quick``: 100 people.
"""

from __future__ import annotations

import contextlib
import csv
import http.client
import json
import os
import resource
import socket
import subprocess
import threading
import time
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
    load_average,
    percentile,
    scratch,
    wait_for,
)
from kunren.record.eventlog import EventLog
from kunren.record.events import Milestone, ParticipantJoined
from kunren.scenarios.loader import load_scenario

NAME = "page: {users} participants on a drill's page"
P99_MS = 100.0  # the bound for the requests (join, marks, the stream's first state)
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
    host: str, env: dict[str, str], users: int, seconds: float, folder: Path, tag: str = ""
) -> dict[str, Any]:
    report = folder / f"locust-{users}{tag}"
    args = [PYTHON, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", host]
    args += ["-u", str(users), "-r", str(min(users, 50)), "-t", f"{seconds:g}s"]
    args += ["--only-summary", "--skip-log", "--json-file", str(report), "--stop-timeout", "5"]
    args += ["--csv", str(report)]  # for the failures' messages
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        args,
        cwd=folder,
        env={**_environ(), **env},
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"locust exited {done.returncode}: {done.stderr[-800:]}")
    entries = json.loads(report.with_suffix(".json").read_text())
    summary = _summary(entries)
    summary["errors"] = _errors(report.with_name(report.name + "_failures.csv"))
    summary["locust"] = (
        f"Locust used {locust_cpu:.1f} s CPU in {wall:.0f} s ({locust_cpu / wall:.0%} of a core)"
    )
    summary["warnings"] = [
        f"locust: {line.strip()[:160]}" for line in done.stderr.splitlines() if "CPU usage" in line
    ][:2]
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
    """Requests (and their p50/p99) apart from the pushes (request type ``PUSH``)."""
    times: list[float] = []
    pushed: list[float] = []
    per_name: dict[str, tuple[int, int]] = {}
    slowest: dict[str, float] = {}
    for entry in entries:
        spread = [float(ms) for ms, n in entry["response_times"].items() for _ in range(int(n))]
        if entry["method"] == "PUSH":
            pushed += spread
            continue
        per_name[entry["name"]] = (entry["num_requests"], entry["num_failures"])
        slowest[entry["name"]] = percentile(spread, 0.99) if spread else float("nan")
        times += spread
    return {
        "requests": sum(n for n, _ in per_name.values()),
        "failures": sum(f for _, f in per_name.values()),
        "p50": percentile(times, 0.50) if times else float("nan"),
        "p99": percentile(times, 0.99) if times else float("nan"),
        "per_name": per_name,
        "p99_per_name": slowest,
        "push": pushed,
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
    users, seconds, base_seconds = (100, 15.0, 6.0) if quick else (1000, 50.0, 15.0)
    # the target run's arrivals: independent unless KUNREN_BENCH_ARRIVALS=batch asks for
    # Locust's batches there too (the stress run after it always has them)
    arrivals = os.environ.get("KUNREN_BENCH_ARRIVALS", "spread")
    how = "each at a moment of their own" if arrivals == "spread" else "in Locust's batches"
    load_start = load_average()
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
            desk = FacilitatorStream(port, tokens["facilitator"])
            cpu = [cpu_seconds(conductor.pid)]

            def measured(people: int, span: float, way: str, tag: str = "") -> dict[str, Any]:
                """One Locust run, with the server CPU it cost and the acks written by its end."""
                run = _locust(
                    host, {**env, "KUNREN_BENCH_ARRIVALS": way}, people, span, folder, tag
                )
                cpu.append(cpu_seconds(conductor.pid))
                run["cpu"] = cpu[-1] - cpu[-2]
                run["acks"] = len(acks.read_text().splitlines())
                return run

            try:
                base = measured(10, base_seconds, arrivals)
                loaded = measured(users, seconds, arrivals)
                burst = measured(users, seconds, "batch", "-batch")
            finally:
                desk.close()
        finally:
            conductor.stop(grace=30)  # SIGTERM: the conductor aborts the drill and exits
        drill = next(p for p in (folder / "drills").iterdir() if p.is_dir())
        problems = _check_record(drill, acks)
        all_acks = [json.loads(line) for line in acks.read_text().splitlines() if line]
        reached = desk.reached_after(all_acks[base["acks"] : loaded["acks"]])
    load_end = load_average()
    acked = len(all_acks)
    ratio = loaded["p99"] / base["p99"]
    failures = base["failures"] + loaded["failures"] + burst["failures"]
    holds = failures == 0 and not problems and loaded["p99"] <= P99_MS
    detail = ", ".join(f"{name} {n:,}" for name, (n, _) in sorted(loaded["per_name"].items()))
    return [
        Row(
            NAME.format(users=f"{users:,}"),
            f"p99 {loaded['p99']:.0f} ms",
            f"p99 {base['p99']:.0f} ms (10 people)",
            ratio,
            f"{ratio:.1f}×",
            None,
            [
                f"{users:,} people for {seconds:g} s, arriving 50 a second {how}, "
                "each holding its page's event stream: "
                f"{loaded['requests']:,} requests ({detail}), {loaded['failures']} failed; "
                f"p50 {loaded['p50']:.0f} ms, p99 {loaded['p99']:.0f} ms",
                f"p99 per request: {_per_kind(loaded)}",
                f"10 people for {base_seconds:g} s: {base['requests']:,} requests, "
                f"{base['failures']} failed; p50 {base['p50']:.0f} ms, p99 {base['p99']:.0f} ms",
                _push_line("a mark on its person's own stream", loaded["push"]),
                _push_line("a mark on the facilitator's stream", reached),
                _cpu_line(users, loaded),
                _cpu_line(10, base),
                f"the same {users:,} people in Locust's own batches (each second's 50 started "
                f"in the same few ms; the stress case, not the target): {burst['requests']:,} "
                f"requests, {burst['failures']} failed; p50 {burst['p50']:.0f} ms, "
                f"p99 {burst['p99']:.0f} ms",
                f"p99 per request in batches: {_per_kind(burst)}",
                _cpu_line(users, burst, " in batches"),
                f"{acked} acknowledged milestones checked against the record: "
                + ("each exactly once" if not problems else f"{len(problems)} problems"),
                f"server and Locust share this machine's {os.cpu_count()} cores "
                f"(one Locust process); load average {load_start} → {load_end}",
                f"{users:,} people: {loaded['locust']}; in batches: {burst['locust']}; "
                f"10 people: {base['locust']}",
                *loaded["warnings"],
                *burst["warnings"],
                *(
                    f"failure: {error}"
                    for error in (base["errors"] + loaded["errors"] + burst["errors"])[:8]
                ),
                *problems[:10],
            ],
            holds=holds,
            expect=f"0 errors; every ack once; p99 ≤ {P99_MS:.0f} ms",
            load=f"{load_start} → {load_end}",
        )
    ]


def _per_kind(run: dict[str, Any]) -> str:
    return ", ".join(f"{name} {ms:.0f} ms" for name, ms in sorted(run["p99_per_name"].items()))


def _push_line(what: str, times: list[float]) -> str:
    if not times:
        return f"{what}: none measured"
    return (
        f"{what}: {len(times):,} marks, p50 {percentile(times, 0.50):.0f} ms, "
        f"p99 {percentile(times, 0.99):.0f} ms, max {max(times):.0f} ms (from sending the post)"
    )


def _cpu_line(users: int, run: dict[str, Any], how: str = "") -> str:
    requests = max(1, run["requests"])
    return (
        f"page server CPU with {users:,} people{how}: {run['cpu']:.2f} s "
        f"({run['cpu'] / users * 1000:.1f} ms per participant, "
        f"{run['cpu'] / requests * 1000:.2f} ms per request)"
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class FacilitatorStream:
    """The facilitator view's stream, held by the benchmark while the people press: when each
    milestone row arrives (wall time, the same machine's clock as Locust's)."""

    def __init__(self, port: int, token: str) -> None:
        self.arrived: dict[int, float] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        self.connection.request(
            "GET",
            "/api/timeline/stream?after=0",
            headers={"X-Kunren-Token": token, "Accept": "text/event-stream"},
        )
        self.response = self.connection.getresponse()
        if self.response.status != 200:
            raise RuntimeError(f"the facilitator stream answered {self.response.status}")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        # AttributeError: http.client's chunked reader, when ``close`` shuts the socket under
        # it mid-read, fails on the response it has just closed (a traceback, not a result)
        with contextlib.suppress(OSError, ValueError, AttributeError, http.client.HTTPException):
            while line := self.response.readline():
                if line.startswith(b"data:"):
                    now = time.time()
                    for row in json.loads(line[5:]).get("events", []):
                        if row["type"] == "milestone":
                            self.arrived[row["seq"]] = now

    def reached_after(self, acks: list[dict[str, Any]]) -> list[float]:
        """For each acknowledged mark, ms from sending it to its row on this stream."""
        return [
            (self.arrived[ack["seq"]] - ack["sent"]) * 1000
            for ack in acks
            if ack.get("seq") in self.arrived
        ]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.connection.sock is not None:
                self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()
        self.thread.join(10)


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
