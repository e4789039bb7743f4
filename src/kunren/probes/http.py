"""The ``http`` probe: is the site answering, correctly and fast enough, right now?

It is how a drill learns that impact started (the first failure) and ended (the recovery), so
it must tell a broken system from a broken probe: a refused connection, a timeout, a wrong
status or a slow answer is a failed check with a short reason, never an exception. Requests
run on asyncio streams with one hard deadline, so a hanging server cannot stall the drill.
"""

from __future__ import annotations

import re
import time
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from kunren.durations import format_duration
from kunren.factories import new_dict
from kunren.probes.base import Probe, ProbeResult
from kunren.scenarios.models import Duration


def _statuses(value: object) -> object:
    return [value] if isinstance(value, int) and not isinstance(value, bool) else value


def seconds_text(seconds: float) -> str:
    """``2.4s``, ``0.25s``, ``5m``: short enough for a probe detail."""
    if seconds >= 60:
        return format_duration(seconds)
    return f"{seconds:.2f}".rstrip("0").rstrip(".") + "s"


def http_url(value: str) -> str:
    """``value`` if it is an http:// or https:// URL with a host; ValueError (a located
    validation problem) otherwise. Every probe that talks HTTP checks its URL this way."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value


class HttpProbeParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    method: str = "GET"
    expect_status: Annotated[list[int], BeforeValidator(_statuses)] | None = None  # 200..399
    body_contains: str | None = None
    body_regex: str | None = None
    max_latency: Duration | None = None  # slower than this counts as failed
    timeout: Duration = 5.0
    headers: dict[str, str] = Field(default_factory=new_dict)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value)

    @field_validator("body_regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @field_validator("timeout")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("timeout must be longer than 0s")
        return value

    def status_ok(self, status: int) -> bool:
        if self.expect_status is None:
            return 200 <= status <= 399
        return status in self.expect_status


async def fetch(params: HttpProbeParams) -> tuple[int, bytes]:
    """One request; the caller bounds it with a deadline."""
    parts = urlsplit(params.url)
    host = parts.hostname or ""
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    import asyncio  # here, not at the top: checking a scenario loads this module, not asyncio
    import ssl

    from kunren.runtime import http1

    context = ssl.create_default_context() if secure else None
    reader, writer = await asyncio.open_connection(host, port, ssl=context, limit=http1.MAX_HEAD)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = host if parts.port is None else f"{host}:{parts.port}"
        headers = [
            ("Host", host_header),
            ("User-Agent", "kunren-probe"),
            ("Accept", "*/*"),
            *params.headers.items(),
            ("Connection", "close"),
        ]
        writer.write(http1.encode(f"{params.method.upper()} {target} HTTP/1.1", headers))
        await writer.drain()
        head = await http1.read_head(reader)
        if head is None:
            raise http1.WireError("connection closed without a response")
        status = http1.parse_status(head)
        if not http1.body_allowed(status, params.method):
            return status, b""
        return status, await http1.read_body(reader, head, until_eof=True)
    finally:
        writer.transport.abort()  # we asked for Connection: close; no need to linger


def failure_reason(exc: BaseException, params: HttpProbeParams) -> str:
    import socket
    import ssl

    from kunren.runtime.http1 import WireError

    if isinstance(exc, TimeoutError):
        return f"timeout after {seconds_text(params.timeout)}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve {urlsplit(params.url).hostname}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    if isinstance(exc, WireError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"connection failed: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"


class HttpProbe(Probe[HttpProbeParams]):
    """Request a URL; fail on a wrong status, missing body text, slowness or no answer."""

    summary = "HTTP check: expected status, body text or regex, latency limit, timeout."

    async def check(self) -> ProbeResult:
        params = self.params
        import asyncio

        from kunren.runtime.http1 import WireError

        started = time.perf_counter()
        try:
            async with asyncio.timeout(params.timeout):
                status, body = await fetch(params)
        except (OSError, WireError, TimeoutError) as exc:
            return ProbeResult(ok=False, detail=failure_reason(exc, params))
        elapsed = time.perf_counter() - started
        if not params.status_ok(status):
            return ProbeResult(ok=False, detail=f"status {status}")
        text = body.decode("utf-8", errors="replace")
        if params.body_contains is not None and params.body_contains not in text:
            return ProbeResult(ok=False, detail=f"body lacks {params.body_contains!r}")
        if params.body_regex is not None and not re.search(params.body_regex, text):
            return ProbeResult(ok=False, detail=f"body does not match {params.body_regex!r}")
        if params.max_latency is not None and elapsed > params.max_latency:
            return ProbeResult(
                ok=False,
                detail=f"latency {seconds_text(elapsed)} > {seconds_text(params.max_latency)}",
            )
        return ProbeResult(ok=True, detail=f"status {status} in {seconds_text(elapsed)}")
