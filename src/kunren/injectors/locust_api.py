"""Driving a Locust master through its web API: the one way kunren talks to Locust.

The same few HTTP calls drive a master kunren started on loopback and an existing master on
another host or in Kubernetes, so both modes behave alike:

    POST /swarm   user_count, spawn_rate, host   start the run, or change the user count
    POST /stop                                   stop every user (on all workers)
    GET  /kunren/stats                           cumulative stats with histograms (kunren's
                                                 extension, see locustfiles/kunren_stats.py)
    GET  /stats/requests                         Locust's stock stats, when the extension
                                                 is not loaded on that master

Every call is bounded by a timeout and runs in a thread (``urllib`` blocks), and every failure
becomes one ``KunrenError`` line naming the master.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from kunren.errors import KunrenError
from kunren.injectors.locust_stats import Snapshot, parse_kunren_stats, parse_locust_stats
from kunren.runtime.clock import monotonic

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes


class MasterApi:
    """A Locust master's web API at ``base_url`` (``http://host:web_port``)."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._exact: bool | None = None  # does the master serve /kunren/stats? (None: unknown)
        host = urllib.parse.urlsplit(self.base_url).hostname or ""
        # A proxy from the environment must never sit between kunren and its own loopback master.
        handlers = [urllib.request.ProxyHandler({})] if host in _LOOPBACK else []
        self._opener = urllib.request.build_opener(*handlers)

    @property
    def exact(self) -> bool:
        """True when the master serves kunren's histogram route (exact interval percentiles)."""
        return bool(self._exact)

    async def snapshot(self) -> Snapshot:
        """The master's cumulative statistics now."""
        if self._exact is not False:
            reply = await self._call("GET", "/kunren/stats")
            if reply.status == 200:
                self._exact = True
                return parse_kunren_stats(reply.body, monotonic())
            if reply.status != 404 or self._exact:
                raise self._failed("GET /kunren/stats", f"HTTP {reply.status}")
            self._exact = False
        reply = await self._call("GET", "/stats/requests")
        if reply.status != 200:
            raise self._failed("GET /stats/requests", f"HTTP {reply.status}")
        return parse_locust_stats(reply.body, monotonic())

    async def swarm(self, users: int, spawn_rate: float, host: str | None) -> None:
        """Start the run or move it to ``users`` at ``spawn_rate`` users per second."""
        form = {"user_count": str(users), "spawn_rate": repr(float(spawn_rate))}
        if host:
            form["host"] = host
        reply = await self._call("POST", "/swarm", form)
        answer = _json_object(reply.body)
        if reply.status != 200 or answer.get("success") is not True:
            detail = answer.get("message") or f"HTTP {reply.status}"
            raise self._failed("POST /swarm", str(detail))

    async def stop(self) -> None:
        """Stop every user; returns once the master reports the users gone."""
        reply = await self._call("POST", "/stop")
        if reply.status == 405:  # Locust before 2.22 served /stop on GET
            reply = await self._call("GET", "/stop")
        if reply.status != 200:
            raise self._failed("POST /stop", f"HTTP {reply.status}")

    async def _call(self, method: str, path: str, form: dict[str, str] | None = None) -> _Reply:
        try:
            return await asyncio.to_thread(self._blocking_call, method, path, form)
        except (OSError, urllib.error.URLError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise self._failed(f"{method} {path}", str(reason)) from exc

    def _blocking_call(self, method: str, path: str, form: dict[str, str] | None) -> _Reply:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return _Reply(response.status, response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return _Reply(exc.code, exc.read())

    def _failed(self, what: str, detail: str) -> KunrenError:
        return KunrenError(f"load: Locust master at {self.base_url}: {what} failed: {detail}")


def _json_object(body: bytes) -> dict[str, object]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
