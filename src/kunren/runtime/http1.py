"""Just enough HTTP/1.1 on asyncio streams for the fault proxy and the ``http`` probe.

Both need what an HTTP library hides: the proxy must decide per request whether to answer,
delay, hang or drop the connection, and the probe must time a request with a hard deadline
and cancel it cleanly. A few dozen lines of stdlib asyncio do both without a new dependency.
Messages are read whole (no streaming): fine for health checks and for a drill proxy.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from http import HTTPStatus

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024

# Headers that describe one connection, not the message: a proxy must not pass them on.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "expect",
    }
)


class WireError(Exception):
    """The peer sent something that is not HTTP/1.x, or more than we accept."""


@dataclass(frozen=True)
class Head:
    """A start line and its headers, in order, names as sent."""

    start: str
    headers: list[tuple[str, str]]

    def get(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def has_token(self, name: str, token: str) -> bool:
        value = self.get(name) or ""
        return token.lower() in (part.strip().lower() for part in value.split(","))

    def end_to_end(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.headers if k.lower() not in HOP_BY_HOP]


async def read_head(reader: asyncio.StreamReader) -> Head | None:
    """The next message head, or None when the peer closed before sending one."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise WireError("connection closed inside a message head") from exc
    except asyncio.LimitOverrunError as exc:
        raise WireError("message head too large") from exc
    lines = raw.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise WireError(f"malformed header line {line[:60]!r}")
        headers.append((name.strip(), value.strip()))
    return Head(start=lines[0], headers=headers)


async def read_body(reader: asyncio.StreamReader, head: Head, *, until_eof: bool) -> bytes:
    """The body after ``head``: chunked, by Content-Length, or (responses only,
    ``until_eof``) everything until the peer closes."""
    if head.has_token("Transfer-Encoding", "chunked"):
        return await _read_chunked(reader)
    length = head.get("Content-Length")
    if length is not None:
        if not length.isdigit() or int(length) > MAX_BODY:
            raise WireError(f"bad Content-Length {length!r}")
        try:
            return await reader.readexactly(int(length))
        except asyncio.IncompleteReadError as exc:
            raise WireError("connection closed inside a body") from exc
    if until_eof:
        return await _read_to_eof(reader)
    return b""


async def _read_to_eof(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while chunk := await reader.read(65536):
        body += chunk
        if len(body) > MAX_BODY:
            raise WireError("body too large")
    return bytes(body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    try:
        for _ in range(1_000_000):
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers: dropped
                return bytes(body)
            if len(body) + size > MAX_BODY:
                raise WireError("chunked body too large")
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        raise WireError("malformed chunked body") from exc
    raise WireError("too many chunks")


def body_allowed(status: int, method: str) -> bool:
    return method.upper() != "HEAD" and not (100 <= status < 200 or status in (204, 304))


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def encode(start: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = [start, *(f"{name}: {value}" for name, value in headers), "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


def parse_status(head: Head) -> int:
    """The status code of a response head (``HTTP/1.1 200 OK``)."""
    parts = head.start.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise WireError(f"not an HTTP response: {head.start[:60]!r}")
    return int(parts[1])
