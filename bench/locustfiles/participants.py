"""The page benchmark's locustfile: simulated participants on a running drill's page.

Each user does what a person with a laptop does: opens the join link (the token is traded for a
cookie), joins under a unique name in a role, presses the milestone buttons of that role one
after another, and otherwise polls ``/api/state`` like the page's script. Every milestone the
server acknowledges (``ok`` with its ``seq``) is written to ``KUNREN_BENCH_ACKS`` so the
benchmark can check afterwards that each one is in the record exactly once.

Environment: ``KUNREN_BENCH_TOKEN`` (participant token), ``KUNREN_BENCH_ROLES`` (JSON: role ->
milestones), ``KUNREN_BENCH_ACKS`` (file to append acknowledgements to).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import uuid
from typing import Any

from locust import FastHttpUser, between, task
from locust.exception import StopUser

TOKEN = os.environ["KUNREN_BENCH_TOKEN"]
ROLES: dict[str, list[str]] = json.loads(os.environ["KUNREN_BENCH_ROLES"])
ACKS = open(os.environ["KUNREN_BENCH_ACKS"], "a", buffering=1, encoding="utf-8")  # noqa: SIM115
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_numbers = itertools.count()
JSON = {"Accept": "application/json"}


class Participant(FastHttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        n = next(_numbers)
        self.actor = f"participant-{os.getpid()}-{n:03d}"
        self.role = sorted(ROLES)[n % len(ROLES)]
        self.todo = list(ROLES[self.role])
        self.csrf = ""
        link = f"/?token={TOKEN}"
        with self.client.get(link, name="GET / (join link)", catch_response=True) as r:
            found = CSRF.search(r.text or "")
            if r.status_code != 200 or found is None:
                r.failure(f"no join form (status {r.status_code})")
                raise StopUser()  # a person who cannot join does nothing else
            self.csrf = found.group(1)
        if self._post("/join", {"name": self.actor, "role": self.role}, "POST /join") is None:
            raise StopUser()

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

    @task
    def act(self) -> None:
        if not self.todo:
            self.client.get("/api/state", headers=JSON, name="GET /api/state")
            return
        milestone = self.todo.pop(0)
        key = uuid.uuid4().hex
        payload = self._post("/milestone", {"milestone": milestone, "key": key}, "POST /milestone")
        if payload is not None:
            ack = {"actor": self.actor, "milestone": milestone, "seq": payload.get("seq")}
            ACKS.write(json.dumps(ack) + "\n")
