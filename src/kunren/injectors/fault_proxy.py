"""The fault proxy behind ``http.fault``: a small HTTP/1.1 reverse proxy that misbehaves on cue.

It listens where clients expect the service (the target's ``url``) and forwards every request
untouched to ``upstream`` until a fault activates a rule. A matching request is then answered
with a chosen status, delayed, held open, or dropped, for as long as the rule is active. Rules
live in the conductor's process only: when that process dies, the proxy and its faults end
with it. Delays are real time, not drill time: they are what real clients experience.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import random
from dataclasses import dataclass, field

from kunren.runtime import http1
from kunren.runtime.http1 import Head, WireError


def path_matches(pattern: str, path: str) -> bool:
    """``/api/*`` style globs match the whole path; a plain pattern matches that path and
    everything below it (``/search`` matches ``/search`` and ``/search/x``, not ``/searches``)."""
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(path, pattern)
    if pattern in ("", "/"):
        return True
    return path == pattern or path.startswith(pattern.rstrip("/") + "/")


@dataclass
class Rule:
    """What one active fault does to the requests it matches."""

    id: str
    path: str = "/"
    methods: frozenset[str] | None = None  # None: every method
    status: int | None = None
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    latency: float | None = None
    hang: bool = False
    close: bool = False
    probability: float = 1.0
    rng: random.Random = field(default_factory=random.Random)
    matched: int = 0
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    def applies(self, method: str, path: str) -> bool:
        if self.methods is not None and method.upper() not in self.methods:
            return False
        if not path_matches(self.path, path):
            return False
        return self.probability >= 1.0 or self.rng.random() < self.probability


@dataclass(frozen=True)
class _Request:
    method: str
    target: str
    head: Head
    body: bytes
    keep_alive: bool

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0].split("#", 1)[0] or "/"


class FaultProxy:
    """One listening proxy; faults on the same target share it and add or remove rules."""

    def __init__(self, listen: tuple[str, int], upstream: tuple[str, int]) -> None:
        self.listen = listen
        self.upstream = upstream
        self.forwarded = 0
        self.users: set[str] = set()  # ids of the faults sharing this proxy
        self._rules: dict[str, Rule] = {}
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        """The bound port (useful when listening on port 0)."""
        if self._server is None:
            return self.listen[1]
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Start listening; raises OSError when the address is taken."""
        if self._server is None:
            host, port = self.listen
            self._server = await asyncio.start_server(
                self._serve, host, port, limit=http1.MAX_HEAD, reuse_address=True
            )

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for rule in self._rules.values():
            rule.ended.set()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()

    def activate(self, rule: Rule) -> None:
        self._rules[rule.id] = rule

    def deactivate(self, rule_id: str) -> Rule | None:
        rule = self._rules.pop(rule_id, None)
        if rule is not None:
            rule.ended.set()  # lets held ("hang") requests go
        return rule

    def rule(self, rule_id: str) -> Rule | None:
        """The active rule ``rule_id`` (its ``matched`` count tells how often it fired)."""
        return self._rules.get(rule_id)

    def _pick(self, request: _Request) -> Rule | None:
        for rule in list(self._rules.values()):
            if rule.applies(request.method, request.path):
                rule.matched += 1
                return rule
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            for _ in range(1_000_000):  # requests on one keep-alive connection
                request = await self._read_request(reader, writer)
                if request is None:
                    break
                if not await self._handle(request, reader, writer):
                    break
                if not request.keep_alive:
                    break
        except (ConnectionError, WireError, asyncio.IncompleteReadError):
            pass  # the client went away or spoke nonsense: nothing to answer
        except asyncio.CancelledError:
            # Only close() cancels these tasks. Ending normally matters on Python 3.11, whose
            # asyncio logs a spurious traceback for a cancelled connection callback task.
            pass
        finally:
            if task is not None:
                self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> _Request | None:
        head = await http1.read_head(reader)
        if head is None:
            return None
        parts = head.start.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            writer.write(_response(400, b"bad request line\n", keep_alive=False))
            return None
        method, target, version = parts
        if head.has_token("Connection", "close"):
            keep_alive = False
        elif version == "HTTP/1.0":
            keep_alive = head.has_token("Connection", "keep-alive")
        else:
            keep_alive = True
        if head.has_token("Expect", "100-continue"):
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await http1.read_body(reader, head, until_eof=False)
        return _Request(method.upper(), target, head, body, keep_alive)

    async def _handle(
        self, request: _Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; False when the connection must close now."""
        rule = self._pick(request)
        if rule is not None:
            if rule.close:
                return False
            if rule.hang:
                await _hold(rule, reader)
                return False
            if rule.latency:
                await asyncio.sleep(rule.latency)
            if rule.status is not None:
                headers = list(rule.headers)
                writer.write(_response(rule.status, rule.body, request.keep_alive, headers))
                await writer.drain()
                return True
        writer.write(await self._forward(request))
        await writer.drain()
        return True

    async def _forward(self, request: _Request) -> bytes:
        """The upstream's answer, re-framed for our client (a 502 when upstream fails)."""
        try:
            reader, writer = await asyncio.open_connection(*self.upstream, limit=http1.MAX_HEAD)
        except OSError as exc:
            message = f"kunren fault proxy: upstream {self._upstream_text} unreachable: {exc}\n"
            return _response(502, message.encode(), request.keep_alive)
        try:
            headers = request.head.end_to_end()
            if request.body or request.method in ("POST", "PUT", "PATCH"):
                headers.append(("Content-Length", str(len(request.body))))
            headers.append(("Connection", "close"))
            start = f"{request.method} {request.target} HTTP/1.1"
            writer.write(http1.encode(start, headers, request.body))
            await writer.drain()
            head = await http1.read_head(reader)
            if head is None:
                raise WireError("upstream closed without answering")
            status = http1.parse_status(head)
            allowed = http1.body_allowed(status, request.method)
            body = await http1.read_body(reader, head, until_eof=True) if allowed else b""
        except (OSError, WireError) as exc:
            message = f"kunren fault proxy: upstream {self._upstream_text} failed: {exc}\n"
            return _response(502, message.encode(), request.keep_alive)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        self.forwarded += 1
        out = head.end_to_end()
        if allowed:
            out.append(("Content-Length", str(len(body))))
        elif request.method == "HEAD" and (length := head.get("Content-Length")) is not None:
            out.append(("Content-Length", length))
        if not request.keep_alive:
            out.append(("Connection", "close"))
        return http1.encode(f"HTTP/1.1 {status} {http1.reason(status)}", out, body)

    @property
    def _upstream_text(self) -> str:
        return f"{self.upstream[0]}:{self.upstream[1]}"


async def _hold(rule: Rule, reader: asyncio.StreamReader) -> None:
    """Keep a request unanswered until the fault ends or the client gives up."""
    ended = asyncio.ensure_future(rule.ended.wait())
    client = asyncio.ensure_future(reader.read(65536))
    try:
        await asyncio.wait({ended, client}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in (ended, client):
            waiter.cancel()
        await asyncio.gather(ended, client, return_exceptions=True)


def _response(
    status: int,
    body: bytes,
    keep_alive: bool,
    headers: list[tuple[str, str]] | None = None,
) -> bytes:
    out = list(headers or [])
    names = {name.lower() for name, _ in out}
    if "content-type" not in names:
        out.append(("Content-Type", "text/plain; charset=utf-8"))
    out = [(k, v) for k, v in out if k.lower() not in ("content-length", "connection")]
    out.append(("Content-Length", str(len(body))))
    if not keep_alive:
        out.append(("Connection", "close"))
    return http1.encode(f"HTTP/1.1 {status} {http1.reason(status)}", out, body)
