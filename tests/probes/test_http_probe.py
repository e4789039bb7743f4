"""The http probe against the demo shop and small misbehaving servers on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterator

import pytest
from pydantic import ValidationError

from kunren.demo.shop import serving
from kunren.injectors.base import FaultRequest
from kunren.injectors.fault_proxy import FaultProxy
from kunren.injectors.http_fault import HttpFault, HttpFaultParams
from kunren.probes.base import ProbeResult
from kunren.probes.http import HttpProbe, HttpProbeParams
from kunren.runtime.context import DrillContext, drill_context
from kunren.scenarios.models import ProbeSpec, Scenario

pytestmark = pytest.mark.integration

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture(scope="module")
def shop() -> Iterator[str]:
    with serving() as url:
        yield url


def context() -> DrillContext:
    scenario = Scenario.model_validate({"version": 1, "id": "t", "title": "t", "duration": "10m"})
    return drill_context(scenario)


async def check(params: dict[str, object], ctx: DrillContext | None = None) -> ProbeResult:
    spec = ProbeSpec.model_validate({"id": "web", "http": params})
    probe = HttpProbe(ctx or context(), spec, HttpProbeParams.model_validate(spec.params))
    # A probe must return within its own timeout: bound the test well above it.
    async with asyncio.timeout(10):
        return await probe.check()


def probe(params: dict[str, object]) -> ProbeResult:
    return asyncio.run(check(params))


async def with_server(handler: Handler, params: dict[str, object]) -> ProbeResult:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        return await check({"url": f"http://127.0.0.1:{port}/", **params})
    finally:
        server.close()


def test_a_healthy_page_passes(shop: str) -> None:
    result = probe({"url": f"{shop}/health", "body_contains": "ok"})
    assert result.ok
    assert result.detail.startswith("status 200 in ")


def test_a_wrong_status_fails_with_the_status(shop: str) -> None:
    assert probe({"url": f"{shop}/missing"}) == ProbeResult(ok=False, detail="status 404")


@pytest.mark.parametrize("expect", [404, [200, 404]])
def test_expect_status_accepts_one_or_several(shop: str, expect: object) -> None:
    assert probe({"url": f"{shop}/missing", "expect_status": expect}).ok


def test_body_checks_name_what_is_missing(shop: str) -> None:
    url = f"{shop}/search?q=kyoto"
    assert probe({"url": url, "body_regex": r'"count": 2\b'}).ok
    assert probe({"url": url, "body_contains": "Sapporo"}) == ProbeResult(
        ok=False, detail="body lacks 'Sapporo'"
    )
    assert probe({"url": url, "body_regex": "count.: 9"}) == ProbeResult(
        ok=False, detail="body does not match 'count.: 9'"
    )


def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/health"
        assert probe({"url": url}) == ProbeResult(ok=False, detail="connection refused")


def test_a_server_that_never_answers_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the probe hangs up
        writer.close()

    result = asyncio.run(with_server(silent, {"timeout": "200ms"}))
    assert result == ProbeResult(ok=False, detail="timeout after 0.2s")


def test_a_slow_answer_fails_the_latency_threshold() -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(0.25)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    result = asyncio.run(with_server(slow, {"max_latency": "100ms"}))
    assert not result.ok
    assert result.detail.startswith("latency 0.")
    assert result.detail.endswith("s > 0.1s")


def test_a_dropped_connection_fails_clearly() -> None:
    async def rude(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    result = asyncio.run(with_server(rude, {}))
    assert result == ProbeResult(ok=False, detail="connection closed without a response")


def test_chunked_answers_are_read_whole() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nall\r\n5\r\n good\r\n0\r\n\r\n"
        )
        await writer.drain()
        writer.close()

    assert asyncio.run(with_server(chunked, {"body_contains": "all good"})).ok


def test_the_probe_sees_an_http_fault_through_the_proxy(shop: str) -> None:
    async def run() -> None:
        scenario = Scenario.model_validate(
            {
                "version": 1,
                "id": "t",
                "title": "t",
                "duration": "10m",
                "targets": {"shop": {"url": "http://127.0.0.1:0", "upstream": shop}},
            }
        )
        ctx = drill_context(scenario)
        params = HttpFaultParams.model_validate({"match": {"path": "/health"}, "respond": {}})
        request = FaultRequest("f1", "http.fault", "shop", scenario.targets["shop"], params)
        fault = HttpFault(ctx, request)
        await fault.setup()
        try:
            proxy = ctx.resources["http.fault.proxy:http://127.0.0.1:0"]
            assert isinstance(proxy, FaultProxy)
            port = proxy.port
            url = f"http://127.0.0.1:{port}/health"
            assert (await check({"url": url}, ctx)).ok
            done = await fault.inject()
            assert await check({"url": url}, ctx) == ProbeResult(ok=False, detail="status 500")
            await fault.revert(done.revert or {})
            assert (await check({"url": url}, ctx)).ok
        finally:
            await fault.close()

    asyncio.run(run())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"url": "ftp://example.com"}, "expected an http:// or https:// URL"),
        ({"url": "http://x", "body_regex": "("}, "not a valid regular expression"),
        ({"url": "http://x", "timeout": "0"}, "timeout must be longer than 0s"),
        ({"url": "http://x", "max_latency": "fast"}, "expected a duration like 5m"),
        ({"url": "http://x", "retries": 3}, "Extra inputs are not permitted"),
    ],
)
def test_bad_parameters_are_named(params: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        HttpProbeParams.model_validate(params)
