"""A full disk while people press buttons on the page: the drill still stops and undoes its fault.

The page writes participants' marks from a worker thread (off the conductor's loop), so a
write the disk refuses fails there. What must still hold, with a real ``kunren run`` whose
files cannot grow past a limit (RLIMIT_FSIZE in the child, SIGXFSZ ignored: EFBIG): the
conductor stops the drill, reverts the fault from memory and exits 5; every mark the page
acknowledged is in the record; the page refuses the mark it could not record.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from bench.trials import capped

from kunren.record.eventlog import EVENTS_FILE
from kunren.record.events import Milestone
from kunren.record.stream import read_record
from tests.page.conftest import csrf_of

pytestmark = pytest.mark.integration

SCENARIO = """\
version: 1
id: page-full-disk
title: The disk fills while people press
duration: 10m
roles:
  sre: {}
faults:
  - {id: flag, at: 0s, kind: testing.marker, path: flag.marker}
"""
LIMIT = 12_000  # room for the drill's start and the fault, then a few dozen marks


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(
    condition: Callable[[], object], timeout: float, what: str, child: subprocess.Popen[str]
) -> None:
    """Poll ``condition``; on the deadline, or if ``child`` ended first, fail with its output."""
    deadline = time.monotonic() + timeout
    while not condition():
        if child.poll() is not None or time.monotonic() > deadline:
            if child.poll() is None:
                child.kill()
            out, err = child.communicate(timeout=10)
            ended = f"exit {child.returncode}"
            raise AssertionError(f"{what} not within {timeout:g} s ({ended}):\n{out}\n{err}")
        time.sleep(0.05)


def test_a_full_disk_under_the_pages_marks_stops_the_drill_and_reverts(tmp_path: Path) -> None:
    import sys

    (tmp_path / "s.yaml").write_text(SCENARIO, encoding="utf-8")
    port = _free_port()
    args = [sys.executable, "-m", "kunren", "run", "s.yaml", "--speed", "10", "--port", str(port)]
    conductor = subprocess.Popen(
        [*args, "--yes", "--no-report", "-q"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **capped(LIMIT),
    )
    acknowledged: list[int] = []
    refusals: list[tuple[int, str]] = []
    try:

        def tokens_files() -> list[Path]:
            return list((tmp_path / "drills").glob("*/.web-tokens.json"))

        def started() -> bool:
            return bool(tokens_files()) and (tmp_path / "flag.marker").exists()

        def tokens_written() -> bool:
            return tokens_files()[0].read_text().strip().endswith("}")

        _wait(started, 30, "the drill", conductor)
        _wait(tokens_written, 10, "the tokens", conductor)
        token = json.loads(tokens_files()[0].read_text())["participant"]
        url = f"http://127.0.0.1:{port}"
        for n in range(200):  # each person joins and marks; the record fills up meanwhile
            if conductor.poll() is not None:
                break
            try:
                with httpx.Client(base_url=url, timeout=5.0, follow_redirects=True) as http:
                    csrf = csrf_of(http.get("/", params={"token": token}).text)
                    form = {"csrf": csrf, "name": f"person-{n}", "role": "sre"}
                    json_only = {"Accept": "application/json"}
                    joined = http.post("/join", data=form, headers=json_only)
                    if joined.status_code != 200:
                        refusals.append((joined.status_code, joined.json().get("error", "")))
                        continue
                    mark = {"csrf": csrf, "milestone": "detected"}
                    reply = http.post("/milestone", data=mark, headers=json_only)
                    if reply.status_code == 200 and reply.json().get("ok"):
                        acknowledged.append(reply.json()["seq"])
                    else:
                        refusals.append((reply.status_code, reply.json().get("error", "")))
            except (httpx.HTTPError, AssertionError):  # the page stopped with the drill
                break
        out, err = conductor.communicate(timeout=60)
    finally:
        if conductor.poll() is None:
            conductor.kill()
            conductor.wait(10)
    assert conductor.returncode == 5, out + err
    assert "Traceback" not in err, err
    assert "The drill was stopped; faults were reverted from memory." in err
    assert "reverted: flag" in err
    assert not (tmp_path / "flag.marker").exists()  # the fault is undone
    (drill,) = [p for p in (tmp_path / "drills").iterdir() if p.is_dir()]
    record = read_record(drill / EVENTS_FILE)
    assert record.torn is None
    marks = {e.seq for e in record.events if isinstance(e, Milestone)}
    assert acknowledged and set(acknowledged) <= marks  # each acknowledged mark is on disk
    # the first write the disk refused was a participant's: answered, in words
    not_recorded = "Not recorded: the drill server's disk is full, so its record cannot be"
    assert refusals, "no write was refused before the drill stopped"
    assert refusals[0][0] == 503 and not_recorded in refusals[0][1], refusals
    assert "was not recorded" in err and "error serving" not in err, err  # one line each
