"""`kunren run` serves the page: the real CLI, runner and conductor in a child process."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from kunren.record.stream import read_record
from kunren.runtime.clock import monotonic
from tests.drills.proc import Child
from tests.page.conftest import csrf_of

SCENARIO = """
version: 1
id: web-e2e
title: Web end to end
duration: 60m
roles: {sre: {}, support: {}}
intake: {port: 0, token_file: intake-token}
injects:
  - {at: 0m, kind: announcement, text: "Drill start: the shop is slow", to: support}
"""
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/\S*\?token=\S+)")


def session(link: str) -> tuple[httpx.Client, str]:
    base = link.split("/?")[0].split("/facilitator?")[0].split("/intake/")[0]
    http = httpx.Client(base_url=base, timeout=10.0)
    page = http.get(link.removeprefix(base), follow_redirects=True)
    assert page.status_code == 200, page.text
    return http, csrf_of(page.text)


@pytest.mark.integration
def test_kunren_run_serves_the_page_and_records_clicks_alerts_and_abort(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(SCENARIO)
    child = Child(["run", str(scenario), "--speed", "60", "--port", "0", "--no-report"], tmp_path)
    try:
        child.wait_for_line("Alert intake:")
        links = [m.group(1) for line in child.lines if (m := LINK.search(line))]
        join, facilitator = links[:2]
        (intake_line,) = [line for line in child.lines if line.startswith("Alert intake:")]
        alertmanager = intake_line.split()[2]

        aiko, csrf = session(join)
        headers = {"Accept": "application/json"}
        joined = aiko.post("/join", data={"csrf": csrf, "name": "Aiko", "role": "support"})
        assert joined.status_code == 303
        state = aiko.get("/api/state").json()
        assert [i["text"] for i in state["injects"]] == ["Drill start: the shop is slow"]
        clicked = aiko.post(
            "/milestone", data={"csrf": csrf, "milestone": "detected"}, headers=headers
        )
        assert clicked.json()["ok"] is True

        generic = alertmanager.replace("/intake/alertmanager", "/intake/generic")
        alert = {"name": "shop slow", "status": "ack", "actor": "Ben"}
        # the page's intake takes the intake token only, never the participant's
        refused = httpx.post(generic, json=alert, params={"token": join.split("token=")[1]})
        assert refused.status_code == 401
        token = (tmp_path / "intake-token").read_text(encoding="utf-8").strip()
        taken = httpx.post(generic, json=alert, headers={"Authorization": f"Bearer {token}"})
        assert taken.json() == {"recorded": 1, "unchanged": 0}

        kim, fcsrf = session(facilitator)
        data = {"csrf": fcsrf, "reason": "enough for today", "confirm": "yes", "actor": "Kim"}
        aborted = kim.post("/facilitator/abort", data=data, headers=headers)
        assert aborted.json()["ok"] is True
        child.finish(timeout=30)
    finally:
        if child.proc.poll() is None:
            child.proc.kill()
            child.proc.wait()

    (drill,) = list((tmp_path / "drills").iterdir())
    events = read_record(drill / "events.jsonl").events
    mine = [
        (e.type, getattr(e, "actor", None), getattr(e, "role", None))
        for e in events
        if e.type in ("participant.joined", "milestone", "alert")
    ]
    assert mine == [
        ("participant.joined", "Aiko", "support"),
        ("milestone", "Aiko", "support"),
        ("alert", "Ben", None),
        ("milestone", "Ben", None),
    ]
    (end,) = [e for e in events if e.type == "drill.aborted"]
    assert "enough for today" in end.reason and "Kim" in end.reason


@pytest.mark.integration
def test_a_joined_participant_sees_the_drills_end_before_the_page_stops(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    """The page stops only after the end is recorded (and one poll later, with someone on it),
    so a participant's page shows "the drill has ended", not "the server does not answer"."""
    scenario = write_scenario(SCENARIO)
    child = Child(["run", str(scenario), "--speed", "60", "--port", "0", "--no-report"], tmp_path)
    try:
        child.wait_for_line("Alert intake:")
        links = [m.group(1) for line in child.lines if (m := LINK.search(line))]
        join, facilitator = links[:2]
        aiko, csrf = session(join)
        joined = aiko.post("/join", data={"csrf": csrf, "name": "Aiko", "role": "support"})
        assert joined.status_code == 303
        assert aiko.get("/api/state").json()["ended"] is None

        kim, fcsrf = session(facilitator)
        data = {"csrf": fcsrf, "reason": "time is up", "confirm": "yes", "actor": "Kim"}
        headers = {"Accept": "application/json"}
        assert kim.post("/facilitator/abort", data=data, headers=headers).json()["ok"] is True
        ended: str | None = None
        deadline = monotonic() + 20.0
        while ended is None and monotonic() < deadline:  # polled as the page's script does
            ended = aiko.get("/api/state").json()["ended"]
        assert ended is not None and "time is up" in ended
        assert child.finish(timeout=30) == 1  # an aborted drill exits 1
    finally:
        if child.proc.poll() is None:
            child.proc.kill()
            child.proc.wait()
