"""The demo shop as users run it: `python -m kunren.demo.shop`, real HTTP, real signals."""

from __future__ import annotations

import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from kunren.demo.shop import search

pytestmark = pytest.mark.integration


@dataclass
class Shop:
    process: subprocess.Popen[str]
    url: str


def start_shop(*args: str) -> Shop:
    process = subprocess.Popen(
        [sys.executable, "-m", "kunren.demo.shop", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    ready, _, _ = select.select([process.stderr], [], [], 15)
    line = process.stderr.readline() if ready else ""
    found = re.search(r"listening on (http://\S+)", line)
    if found is None:
        process.kill()
        process.wait(timeout=10)
        raise AssertionError(f"the shop did not start: {line!r}")
    return Shop(process, found.group(1))


def stop(shop: Shop) -> None:
    if shop.process.poll() is None:
        shop.process.kill()
    shop.process.wait(timeout=10)
    if shop.process.stderr is not None:
        shop.process.stderr.close()


@pytest.fixture(scope="module")
def shop() -> Iterator[Shop]:
    running = start_shop("--port", "0")
    try:
        yield running
    finally:
        stop(running)


def test_health_answers_ok(shop: Shop) -> None:
    answer = httpx.get(f"{shop.url}/health")
    assert (answer.status_code, answer.text) == (200, "ok\n")
    assert httpx.head(f"{shop.url}/health").headers["content-length"] == "3"


def test_search_returns_json_results_from_the_catalogue(shop: Shop) -> None:
    found = httpx.get(f"{shop.url}/search", params={"q": "tokyo hotel"}).json()
    assert found == {
        "query": "tokyo hotel",
        "count": 1,
        "results": [
            {"id": "tyo-01", "name": "Shinjuku business hotel", "city": "Tokyo", "price": 12000}
        ],
    }
    assert httpx.get(f"{shop.url}/search").json()["count"] == 14
    assert httpx.get(f"{shop.url}/search", params={"q": "tea"}).json()["count"] == 2
    assert len(search("onsen")) == 2


def test_index_and_booking_form_are_html(shop: Shop) -> None:
    index = httpx.get(f"{shop.url}/")
    assert index.headers["content-type"] == "text/html; charset=utf-8"
    assert 'href="/book?item=kyo-01"' in index.text
    form = httpx.get(f"{shop.url}/book", params={"item": "hak-01"})
    assert '<form method="post" action="/book">' in form.text
    assert '<option value="hak-01" selected>' in form.text


def test_booking_confirms_with_a_reference(shop: Shop) -> None:
    data = {"name": "Aiko <b>", "item": "nar-01", "date": "2025-05-01"}
    answer = httpx.post(f"{shop.url}/book", data=data)
    assert answer.status_code == 200
    assert re.search(
        r"Booked: Nara deer park cycling on 2025-05-01 for Aiko &lt;b&gt;\. "
        r"Reference <strong>KR-\d{6}</strong>",
        answer.text,
    )


def test_an_incomplete_booking_is_refused(shop: Shop) -> None:
    answer = httpx.post(f"{shop.url}/book", data={"name": "Aiko", "item": "nar-01"})
    assert answer.status_code == 400
    assert "Please give your name, a stay and a date." in answer.text


def test_unknown_pages_are_404(shop: Shop) -> None:
    assert httpx.get(f"{shop.url}/admin").status_code == 404
    assert httpx.post(f"{shop.url}/search").status_code == 404


def test_takes_hundreds_of_keep_alive_requests_from_several_clients(shop: Shop) -> None:
    def client_run(_: int) -> list[int]:
        with httpx.Client(base_url=shop.url, timeout=10) as client:
            return [client.get("/search", params={"q": "kyoto"}).status_code for _ in range(100)]

    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        statuses = [status for run in pool.map(client_run, range(4)) for status in run]
    assert statuses == [200] * 400
    # Well under a second here; a lost Nagle/delayed-ACK fix makes it take about 4 s.
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_exits_cleanly_on_sigterm_and_sigint(signum: signal.Signals) -> None:
    running = start_shop("--port", "0")
    try:
        assert httpx.get(f"{running.url}/health").status_code == 200
        running.process.send_signal(signum)
        assert running.process.wait(timeout=10) == 0
    finally:
        stop(running)


def test_a_taken_port_exits_1_with_a_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = subprocess.run(
            [sys.executable, "-m", "kunren.demo.shop", "--port", port],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 1
    assert done.stderr.startswith(f"demo shop: cannot listen on 127.0.0.1:{port}:")


def test_metrics_count_requests_errors_and_latency_by_path(shop: Shop) -> None:
    with httpx.Client(base_url=shop.url, timeout=5.0) as http:
        for _ in range(3):
            assert http.get("/search", params={"q": "tea"}).status_code == 200
        assert http.get("/no-such-page").status_code == 404
        reply = http.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = reply.text
    searches = re.search(
        r'^http_requests_total\{method="GET",path="/search",status="200"\} (\d+\.\d+)$',
        text,
        re.MULTILINE,
    )
    assert searches is not None and float(searches.group(1)) >= 3
    assert 'http_requests_total{method="GET",path="other",status="404"}' in text
    assert 'http_request_duration_seconds_bucket{le="0.005",path="/search"}' in text
    assert "# TYPE http_errors_total counter" in text


def test_the_listen_backlog_is_far_above_http_servers_five() -> None:
    from kunren.demo.shop import LISTEN_BACKLOG, make_server

    server = make_server()
    try:
        assert server.request_queue_size == LISTEN_BACKLOG >= 512
        # what the kernel was told: /proc/net/tcp does not show it, so ask the socket
        # option the listen() call set (SO_ACCEPTCONN) and accept a burst without refusals
        assert server.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
        host, port = server.server_address[:2]
        clients = [socket.create_connection((str(host), port), timeout=5) for _ in range(200)]
        for client in clients:
            client.close()
    finally:
        server.server_close()
