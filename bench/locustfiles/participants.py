"""The page benchmark's locustfile: simulated participants on a running drill's page.

Each user does what a person with a laptop does: opens the join link (the token is traded for a
cookie), joins under a unique name in a role, loads the drill page, holds the page's event
stream open (``/api/stream``, read in a greenlet of its own as the browser's ``EventSource``
would), and presses the milestone buttons of that role one after another; then it only keeps
the stream open until the run ends. It never polls ``/api/state``: the page does so only when
its stream cannot work.

Every milestone the server acknowledges (``ok`` with its ``seq``) is written to
``KUNREN_BENCH_ACKS`` with the wall time it was sent, so the benchmark can check afterwards that
each one is in the record exactly once, and time how soon it reached another stream.

Reported to Locust beside the HTTP requests: ``GET /api/stream (first state)``, the time from
opening the stream to its first state; and, with request type ``PUSH`` (not a request: the
benchmark keeps it apart), ``mark → own stream``, the time from sending a milestone to its
appearing on the person's own stream.

Arrivals: Locust's dispatcher starts a second's worth of users (50) in the same few
milliseconds, once a second. With ``KUNREN_BENCH_ARRIVALS=spread`` (the default) each person
waits a random moment within that second before opening the join link, so the rate (50 a
second) is kept and the arrivals are independent, as people's are; ``batch`` keeps Locust's
batches, the benchmark's stress case.

Environment: ``KUNREN_BENCH_TOKEN`` (participant token), ``KUNREN_BENCH_ROLES`` (JSON: role ->
milestones), ``KUNREN_BENCH_ACKS`` (file to append acknowledgements to),
``KUNREN_BENCH_ARRIVALS`` (``spread`` or ``batch``), ``KUNREN_BENCH_LOCUST_FREEZE`` and
``KUNREN_BENCH_LOCUST_KEEPALIVE`` (``0`` turns off the measuring process's freezer and its
connection check, ``keepalive.py``).
"""

from __future__ import annotations

import gc
import http.client
import itertools
import json
import os
import random
import re
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import gevent  # type: ignore[import-untyped]  # Locust's own, no stubs

# beside this file: Locust puts its folder on sys.path while it imports a locustfile
import keepalive  # type: ignore[import-not-found]
from locust import FastHttpUser, between, task
from locust.exception import StopUser

TOKEN = os.environ["KUNREN_BENCH_TOKEN"]
ROLES: dict[str, list[str]] = json.loads(os.environ["KUNREN_BENCH_ROLES"])
ACKS = open(os.environ["KUNREN_BENCH_ACKS"], "a", buffering=1, encoding="utf-8")  # noqa: SIM115
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_numbers = itertools.count()
# Locust starts a whole-number spawn rate's users all at once, once a second (its dispatcher's
# batches); "spread" arrivals give each one a random moment within that second instead, as
# people opening a link each in their own time do. "batch" keeps Locust's batches.
DISPATCH_SECONDS = 1.0
SPREAD = os.environ.get("KUNREN_BENCH_ARRIVALS", "spread") == "spread"
JSON = {"Accept": "application/json"}


def _freeze_survivors() -> None:
    """The load generator's own collector pauses kept out of the measured times.

    A thousand users' greenlets, connections and responses make this process hold as many
    objects as the server does, and its full collections stopped it for up to 146 ms in one
    run (2026-12-02): every request in flight then had that added to its measured time. As
    the server does (``kunren.page.pauses``), what survives is frozen every few seconds so a
    collection walks only what is new; the load (arrivals, waits, requests) is unchanged.
    """
    while True:
        gevent.sleep(5.0)
        gc.collect(1)
        gc.freeze()


if os.environ.get("KUNREN_BENCH_LOCUST_FREEZE", "1") == "1":
    gevent.spawn(_freeze_survivors)
if os.environ.get("KUNREN_BENCH_LOCUST_KEEPALIVE", "1") == "1":
    keepalive.install()  # clicks reuse their connection past descriptor 1,023 (see keepalive)


class Participant(FastHttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        if SPREAD:  # this person opens the link at a moment of their own within the second
            gevent.sleep(random.uniform(0.0, DISPATCH_SECONDS))
        n = next(_numbers)
        self.actor = f"participant-{os.getpid()}-{n:04d}"
        self.role = sorted(ROLES)[n % len(ROLES)]
        self.todo = list(ROLES[self.role])
        self.csrf = ""
        self.sent: dict[str, float] = {}  # milestone -> perf_counter when its post was sent
        self.stream: Any = None  # the greenlet holding the stream
        self.connection: http.client.HTTPConnection | None = None
        link = f"/?token={TOKEN}"
        with self.client.get(link, name="GET / (join link)", catch_response=True) as r:
            found = CSRF.search(r.text or "")
            if r.status_code != 200 or found is None:
                r.failure(f"no join form (status {r.status_code})")
                raise StopUser()  # a person who cannot join does nothing else
            self.csrf = found.group(1)
        if self._post("/join", {"name": self.actor, "role": self.role}, "POST /join") is None:
            raise StopUser()
        self.client.get("/", name="GET / (drill page)")
        self.stream = gevent.spawn(self._hold_stream)

    def on_stop(self) -> None:
        if self.connection is not None:
            self.connection.close()
        if self.stream is not None:
            self.stream.kill(block=False)

    def _post(self, path: str, form: dict[str, str], name: str) -> dict[str, Any] | None:
        data = {**form, "csrf": self.csrf}
        with self.client.post(path, data=data, headers=JSON, name=name, catch_response=True) as r:
            try:
                payload = json.loads(r.text or "")
            except ValueError:
                payload = None
            if r.status_code != 200 or not isinstance(payload, dict) or not payload.get("ok"):
                r.failure(f"status {r.status_code}: {(r.text or '')[:200]}")
                return None
            return payload

    # ------------------------------------------------------------------ the stream

    def _hold_stream(self) -> None:
        """The page's EventSource: one connection, messages read as they come."""
        address = urlsplit(str(self.host))
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.client.cookiejar)
        self.connection = http.client.HTTPConnection(
            address.hostname or "127.0.0.1", address.port, timeout=120
        )
        opened = time.perf_counter()
        try:
            self.connection.request(
                "GET", "/api/stream", headers={"Cookie": cookie, "Accept": "text/event-stream"}
            )
            response = self.connection.getresponse()
            if response.status != 200:
                self._report("GET", "/api/stream (first state)", opened, f"{response.status}")
                return
            first = True
            data: list[bytes] = []
            while line := response.readline():
                line = line.rstrip(b"\r\n")
                if line.startswith(b"data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    if first:
                        self._report("GET", "/api/stream (first state)", opened)
                        first = False
                    self._on_message(json.loads(b"".join(data)))
                    data = []
        except (OSError, http.client.HTTPException) as exc:
            if self.connection is not None and self.connection.sock is not None:
                self._report("GET", "/api/stream (first state)", opened, repr(exc))

    def _on_message(self, state: dict[str, Any]) -> None:
        for name in state.get("milestones") or {}:
            sent = self.sent.pop(name, None)
            if sent is not None:
                self._report("PUSH", "mark → own stream", sent)

    def _report(self, kind: str, name: str, since: float, error: str | None = None) -> None:
        self.environment.events.request.fire(
            request_type=kind,
            name=name,
            response_time=(time.perf_counter() - since) * 1000,
            response_length=0,
            exception=RuntimeError(error) if error else None,
            context={},
        )

    # ------------------------------------------------------------------ the clicks

    @task
    def act(self) -> None:
        if not self.todo:
            return  # done: the page only listens now
        milestone = self.todo.pop(0)
        key = uuid.uuid4().hex
        self.sent[milestone] = time.perf_counter()
        wall = time.time()
        payload = self._post("/milestone", {"milestone": milestone, "key": key}, "POST /milestone")
        if payload is not None:
            ack = {"actor": self.actor, "milestone": milestone, "seq": payload.get("seq")}
            ACKS.write(json.dumps({**ack, "sent": wall}) + "\n")
        else:
            self.sent.pop(milestone, None)
