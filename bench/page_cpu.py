"""The page server's CPU per request, by kind, with nothing queued (a diagnostic, not a bench).

``bench page`` measures latency with 1,000 people at once, which on a shared, loaded machine
says more about the machine than about the page. This harness asks the question that does
not depend on the load: how much CPU does one request of each kind cost the server? A real
drill runs (``kunren run``, its page in the conductor's process, as in ``bench page``); one
client (this process, on 127.0.0.1) brings ``--people`` participants one after another and
makes every request of one kind for all of them before the next kind (the join link, the
join form, the join, the drill page, the stream's first state, the marks, a reload of the
page), reading the conductor's user + system CPU from /proc before and after each kind. CPU
time is what the server spent, however slowly the machine gave it.

``--idle SECONDS``: every person's connection stays idle that long before the marks (a person
who reads before clicking), to see whether the server closes idle keep-alive connections.

``--profile FILE``: the conductor runs under cProfile (written to FILE when it exits), for
``python -m pstats``; the CPU figures then include the profiler's own cost.

    .venv/bin/python -m bench.page_cpu --people 200
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from bench.common import KUNREN, PYTHON, Child, free_port, scratch
from bench.page import SCENARIO, _wait_for_page, cpu_seconds

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ROLES = ["commander", "engineer", "sre", "support"]


class Person:
    """One participant's browser: a keep-alive connection and its cookies."""

    dropped = 0  # requests that found their idle connection closed by the server

    def __init__(self, port: int, n: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.actor = f"person-{n:04d}"
        self.role = ROLES[n % len(ROLES)]

    def request(
        self, method: str, path: str, body: dict[str, str] | None = None, **headers: str
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        sent = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **headers}
        data = None
        if body is not None:
            data = urlencode({**body, "csrf": self.csrf})
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Origin"] = f"http://127.0.0.1:{self.port}"
            sent["Accept"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=sent)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # the server closed this idle keep-alive connection (Locust's "status 0"): counted,
            # and sent again on a new connection so the figures go on
            Person.dropped += 1
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=data, headers=sent)
            response = self.conn.getresponse()
        payload = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, payload, response

    def first_state(self) -> None:
        """Open the stream, read its first message, hang up (as a page closed at once)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request("GET", "/api/stream", headers={"Cookie": cookie})
        response = conn.getresponse()
        assert response.status == 200, response.status
        while response.readline().strip() != b"":
            pass
        conn.close()


def measure(pid: int, people: list[Person], kind: str, step: Callable[[Person], None]) -> str:
    before = cpu_seconds(pid)
    for person in people:
        step(person)
    spent = cpu_seconds(pid) - before
    return f"{kind:<28} {spent / len(people) * 1000:6.2f} ms per request ({len(people)})"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.page_cpu")
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument(
        "--idle",
        type=float,
        default=0.0,
        help="seconds every person's connection stays idle before the marks (a slow person)",
    )
    args = parser.parse_args()
    with scratch("page-cpu-") as folder:
        scenario = folder / "page.yaml"
        scenario.write_text(SCENARIO, encoding="utf-8")
        port = free_port()
        run = ["run", str(scenario), "--port", str(port), "--no-report", "-q", "--yes"]
        prefix = KUNREN
        if args.profile is not None:
            prefix = [PYTHON, "-m", "cProfile", "-o", str(args.profile.resolve()), "-m", "kunren"]
        conductor = Child([*prefix, *run], cwd=folder, log=folder / "conductor.log")
        try:
            tokens = _wait_for_page(folder, port)
            people = [Person(port, n) for n in range(args.people)]
            lines = [_run(conductor.pid, people, tokens["participant"], args.idle)]
            for person in people:
                person.conn.close()
        finally:
            conductor.stop(grace=30)
    print("\n".join(lines[0]))
    return 0


def _run(pid: int, people: list[Person], token: str, idle: float) -> list[str]:
    def link(p: Person) -> None:
        status, _, _ = p.request("GET", f"/?token={token}")
        assert status == 303, status

    def form(p: Person) -> None:
        status, body, _ = p.request("GET", "/")
        found = CSRF.search(body.decode())
        assert status == 200 and found is not None, status
        p.csrf = found.group(1)

    def join(p: Person) -> None:
        status, body, _ = p.request("POST", "/join", {"name": p.actor, "role": p.role})
        assert status == 200 and json.loads(body)["ok"], body

    def page(p: Person) -> None:
        status, _, _ = p.request("GET", "/")
        assert status == 200, status

    def mark(name: str) -> Callable[[Person], None]:
        def press(p: Person) -> None:
            status, body, _ = p.request(
                "POST", "/milestone", {"milestone": name, "key": f"{p.actor}-{name}"}
            )
            assert status == 200 and json.loads(body)["ok"], body

        return press

    started = time.monotonic()
    lines = [
        measure(pid, people, "GET / (join link, 303)", link),
        measure(pid, people, "GET / (join form)", form),
        measure(pid, people, "POST /join", join),
        measure(pid, people, "GET / (drill page)", page),
        measure(pid, people, "GET /api/stream (first)", lambda p: p.first_state()),
    ]
    time.sleep(idle)  # a diagnostic's pause, not a wait for a condition: every person idles
    lines += [
        measure(pid, people, "POST /milestone", mark("acknowledged")),
        measure(pid, people, "GET / (reload after the mark)", page),
    ]
    lines.append(
        f"({len(people)} people, {time.monotonic() - started:.1f} s wall; "
        f"{Person.dropped} requests found their idle keep-alive connection closed)"
    )
    return lines


if __name__ == "__main__":
    sys.exit(main())
