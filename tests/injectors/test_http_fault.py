"""http.fault: real HTTP through the fault proxy to the demo shop (httpx as the client)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from kunren.demo.shop import serving
from kunren.errors import InjectionError, RevertError
from kunren.injectors.base import FaultRequest, Handle
from kunren.injectors.fault_proxy import FaultProxy, path_matches
from kunren.injectors.http_fault import HttpFault, HttpFaultParams
from kunren.runtime.context import DrillContext, drill_context
from kunren.scenarios.models import Scenario, Target

pytestmark = pytest.mark.integration

LISTEN = "http://127.0.0.1:0"  # port 0: the proxy picks a free port; tests read it back


@pytest.fixture(scope="module")
def shop() -> Iterator[str]:
    with serving() as url:
        yield url


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port with nothing listening: bound, never listened on, so connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def context(upstream: str, *, seed: int = 0, dry_run: bool = False) -> DrillContext:
    scenario = Scenario.model_validate(
        {
            "version": 1,
            "id": "t",
            "title": "t",
            "duration": "10m",
            "targets": {"shop": {"url": LISTEN, "upstream": upstream}},
        }
    )
    return drill_context(scenario, seed=seed, dry_run=dry_run)


def fault(ctx: DrillContext, params: Mapping[str, object], fault_id: str = "f1") -> HttpFault:
    return HttpFault(
        ctx,
        FaultRequest(
            id=fault_id,
            kind="http.fault",
            target_name="shop",
            target=ctx.scenario.targets["shop"],
            params=HttpFaultParams.model_validate(params),
        ),
    )


def proxy_of(ctx: DrillContext) -> FaultProxy:
    proxy = ctx.resources[f"http.fault.proxy:{LISTEN}"]
    assert isinstance(proxy, FaultProxy)
    return proxy


def base_url(ctx: DrillContext) -> str:
    return f"http://127.0.0.1:{proxy_of(ctx).port}"


@asynccontextmanager
async def through_proxy(
    ctx: DrillContext, params: Mapping[str, object], *, inject: bool = True
) -> AsyncIterator[tuple[HttpFault, httpx.AsyncClient]]:
    """The fault set up (and injected, unless told not to) and a client of its proxy; the
    fault is closed afterwards whatever happens."""
    injector = fault(ctx, params)
    await injector.setup()
    if inject:
        await injector.inject()
    try:
        async with httpx.AsyncClient(base_url=base_url(ctx), timeout=5) as client:
            yield injector, client
    finally:
        await injector.close()


SEARCH_500: dict[str, object] = {
    "match": {"path": "/search"},
    "respond": {"status": 500, "body": "search broke"},
}


# ---------------------------------------------------------------- parameters and targets


@pytest.mark.parametrize(
    "params",
    [{}, {"hang": True, "close": True}, {"respond": {"status": 500}, "hang": True}],
)
def test_exactly_one_action_is_required(params: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match=r"give one of respond .*; got "):
        HttpFaultParams.model_validate(params)


def test_latency_may_precede_a_response_and_method_may_be_one_or_many() -> None:
    params = HttpFaultParams.model_validate(
        {"latency": "2s", "respond": {"status": 503}, "match": {"method": "post"}}
    )
    assert params.latency == 2.0
    assert params.match.methods == frozenset({"POST"})
    assert HttpFaultParams.model_validate({"close": True}).match.methods is None
    assert params.describe() == "POST /: delay 2s then answer 503"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"respond": {"status": 700}}, "less than or equal to 599"),
        ({"close": True, "probability": 1.5}, "less than or equal to 1"),
        ({"close": True, "delay": "1s"}, "Extra inputs are not permitted"),
        ({"latency": "soon"}, "expected a duration like 5m"),
    ],
)
def test_bad_parameters_are_named(params: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        HttpFaultParams.model_validate(params)


def test_check_target_requires_an_upstream() -> None:
    no_upstream = Target.model_validate({"url": "http://127.0.0.1:8080"})
    assert "needs the target's upstream" in (HttpFault.check_target(no_upstream) or "")
    tls = Target.model_validate({"url": "https://shop.example", "upstream": "http://127.0.0.1:1"})
    assert "needs an http://HOST:PORT url" in (HttpFault.check_target(tls) or "")
    with_path = Target.model_validate(
        {"url": "http://127.0.0.1:8080", "upstream": "http://127.0.0.1:8081/app"}
    )
    assert "drop the path from upstream" in (HttpFault.check_target(with_path) or "")
    good = Target.model_validate(
        {"url": "http://127.0.0.1:8080", "upstream": "http://127.0.0.1:8081"}
    )
    assert HttpFault.check_target(good) is None


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("/search", "/search", True),
        ("/search", "/search/deep", True),
        ("/search", "/searches", False),
        ("/", "/anything", True),
        ("/api/*", "/api/v1/items", True),
        ("/api/*", "/apix", False),
        ("/b??k", "/book", True),
    ],
)
def test_paths_match_by_prefix_or_glob(pattern: str, path: str, hit: bool) -> None:
    assert path_matches(pattern, path) is hit


# ---------------------------------------------------------------- through the proxy


def test_proxy_forwards_everything_untouched_until_a_fault(shop: str) -> None:
    async def run() -> None:
        ctx = context(shop)
        async with through_proxy(ctx, SEARCH_500, inject=False) as (_, client):
            assert (await client.get("/health")).text == "ok\n"
            found = (await client.get("/search", params={"q": "kyoto"})).json()
            assert found["count"] == 2
            head = await client.head("/health")
            assert head.status_code == 200 and head.headers["content-length"] == "3"

            async def chunks() -> AsyncIterator[bytes]:  # sent chunked: no Content-Length
                yield b"name=Aiko&item=kyo-01"
                yield b"&date=2025-04-01"

            booked = await client.post(
                "/book",
                content=chunks(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert booked.status_code == 200 and "Machiya townhouse stay" in booked.text
            assert (await client.get("/nowhere")).status_code == 404
            assert proxy_of(ctx).forwarded == 5

    asyncio.run(run())


def test_respond_answers_matching_requests_until_reverted(shop: str) -> None:
    async def run() -> None:
        ctx = context(shop)
        async with through_proxy(ctx, SEARCH_500, inject=False) as (injector, client):
            done = await injector.inject()
            broken = await client.get("/search", params={"q": "kyoto"})
            assert (broken.status_code, broken.text) == (500, "search broke")
            assert (await client.get("/health")).status_code == 200
            handle = json.loads(json.dumps(done.revert))
            assert await injector.revert(handle) == f"rule f1 off on {LISTEN} (1 request matched)"
            assert (await client.get("/search")).status_code == 200

    asyncio.run(run())


def test_method_and_glob_narrow_what_is_hit(shop: str) -> None:
    async def run() -> None:
        params = {"match": {"path": "/bo*", "method": ["POST"]}, "respond": {"status": 503}}
        async with through_proxy(context(shop), params) as (_, client):
            assert (await client.get("/book")).status_code == 200
            posted = await client.post("/book", data={"name": "a"})
            assert posted.status_code == 503
            assert posted.text == "kunren drill fault f1: 503\n"

    asyncio.run(run())


def test_latency_delays_then_forwards(shop: str) -> None:
    async def run() -> None:
        params = {"match": {"path": "/search"}, "latency": "300ms"}
        async with through_proxy(context(shop), params) as (_, client):
            started = time.perf_counter()
            slow = await client.get("/search", params={"q": "onsen"})
            assert time.perf_counter() - started >= 0.3
            assert slow.json()["count"] == 2

    asyncio.run(run())


def test_hang_holds_requests_until_the_client_gives_up_or_the_fault_ends(shop: str) -> None:
    async def run() -> None:
        ctx = context(shop)
        injector = fault(ctx, {"match": {"path": "/search"}, "hang": True})
        await injector.setup()
        done = await injector.inject()
        try:
            async with httpx.AsyncClient(base_url=base_url(ctx), timeout=0.3) as client:
                with pytest.raises(httpx.ReadTimeout):
                    await client.get("/search")
            async with httpx.AsyncClient(base_url=base_url(ctx), timeout=10) as client:
                held = asyncio.create_task(client.get("/search"))
                rule = proxy_of(ctx).rule("f1")
                assert rule is not None
                async with asyncio.timeout(5):
                    while rule.matched < 2:
                        await asyncio.sleep(0.01)
                assert not held.done()
                await injector.revert(done.revert or {})
                # The held request ends at once (dropped), long before its 10s timeout.
                async with asyncio.timeout(5):
                    with pytest.raises(httpx.RemoteProtocolError):
                        await held
                assert (await client.get("/search")).status_code == 200
        finally:
            await injector.close()

    asyncio.run(run())


def test_close_drops_the_connection_without_an_answer(shop: str) -> None:
    async def run() -> None:
        params = {"match": {"path": "/search"}, "close": True}
        async with through_proxy(context(shop), params) as (_, client):
            with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
                await client.get("/search")
            assert (await client.get("/health")).status_code == 200

    asyncio.run(run())


def statuses_with_seed(shop: str, seed: int) -> list[int]:
    async def run() -> list[int]:
        params = {**SEARCH_500, "probability": 0.5}
        async with through_proxy(context(shop, seed=seed), params) as (_, client):
            return [(await client.get("/search")).status_code for _ in range(40)]

    return asyncio.run(run())


def test_probability_hits_a_seeded_reproducible_share(shop: str) -> None:
    first = statuses_with_seed(shop, 7)
    assert 8 <= first.count(500) <= 32
    assert set(first) == {200, 500}
    assert statuses_with_seed(shop, 7) == first
    assert statuses_with_seed(shop, 8) != first


def test_an_unreachable_upstream_answers_502(closed_port: int) -> None:
    async def run() -> None:
        ctx = context(f"http://127.0.0.1:{closed_port}")
        async with through_proxy(ctx, SEARCH_500, inject=False) as (_, client):
            answer = await client.get("/health")
            assert answer.status_code == 502
            assert "unreachable" in answer.text

    asyncio.run(run())


# ---------------------------------------------------------------- lifecycle


def test_faults_on_one_target_share_a_proxy_until_the_last_closes(shop: str) -> None:
    async def run() -> None:
        ctx = context(shop)
        first, second = fault(ctx, SEARCH_500, "a"), fault(ctx, {"close": True}, "b")
        await first.setup()
        await second.setup()
        proxy = proxy_of(ctx)
        url = base_url(ctx)
        await first.close()
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            assert (await client.get("/health")).status_code == 200
        await second.close()
        assert not proxy.running
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get("/health")

    asyncio.run(run())


def test_dry_run_starts_no_proxy_but_plans_with_the_undo(shop: str) -> None:
    async def run() -> None:
        ctx = context(shop, dry_run=True)
        injector = fault(ctx, SEARCH_500)
        await injector.setup()
        assert ctx.resources == {}
        plan = await injector.plan()
        assert plan.targets == [f"{LISTEN}: any method /search: answer 500"]
        assert plan.undo == "turn off the proxy rule f1 (requests pass through again)"

    asyncio.run(run())


def test_a_taken_listen_address_is_a_clear_error(shop: str) -> None:
    async def run(port: int) -> None:
        scenario = Scenario.model_validate(
            {
                "version": 1,
                "id": "t",
                "title": "t",
                "duration": "10m",
                "targets": {"shop": {"url": f"http://127.0.0.1:{port}", "upstream": shop}},
            }
        )
        injector = fault(drill_context(scenario), SEARCH_500)
        with pytest.raises(InjectionError, match="cannot start the fault proxy on"):
            await injector.setup()

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        asyncio.run(run(taken.getsockname()[1]))


def test_revert_in_a_new_process_reports_the_proxy_ended_with_the_drill(shop: str) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    handle: Handle = {"url": LISTEN, "rule": "f1", "pid": int(finished.stdout), "start": 1}
    message = asyncio.run(fault(context(shop), SEARCH_500).revert(handle))
    assert message == (
        f"the fault proxy on {LISTEN} ended with drill process pid {int(finished.stdout)}; "
        f"rule f1 ended with it (nothing listens on {LISTEN} until the drill resumes)"
    )


def test_revert_while_the_drill_process_still_runs_is_a_revert_error(shop: str) -> None:
    drill = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stat = Path(f"/proc/{drill.pid}/stat").read_text()
        start = int(stat[stat.rfind(")") + 2 :].split()[19])
        handle: Handle = {"url": LISTEN, "rule": "f1", "pid": drill.pid, "start": start}
        with pytest.raises(RevertError, match="which is still running"):
            asyncio.run(fault(context(shop), SEARCH_500).revert(handle))
    finally:
        drill.kill()
        drill.wait(timeout=10)
