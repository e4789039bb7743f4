"""The demo shop: a tiny booking site to rehearse drills against, shipped with kunren.

A drill needs something to break: the demo scenario starts this shop as a service, puts the
fault proxy in front of it, sends Locust load at it, and kills or freezes it. It has what the
classic game-day story needs: a health check, a search endpoint (the URL that "brings the
site down") and a booking page with a form. It runs on the standard library alone; with
``prometheus-client`` installed (``kunren[demo]``, which ``make demo`` installs) it also serves
``/metrics`` for a real Prometheus: requests, errors and latency by path.

    python -m kunren.demo.shop --port 8081 [--host 127.0.0.1]
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kunren.runtime.clock import perf_counter


@dataclass(frozen=True)
class Item:
    id: str
    name: str
    city: str
    price: int  # yen per night or per person


CATALOGUE: tuple[Item, ...] = (
    Item("kyo-01", "Machiya townhouse stay", "Kyoto", 24000),
    Item("kyo-02", "Arashiyama bamboo walk at dawn", "Kyoto", 6000),
    Item("tyo-01", "Shinjuku business hotel", "Tokyo", 12000),
    Item("tyo-02", "Tsukiji breakfast tour", "Tokyo", 8000),
    Item("tyo-03", "Asakusa ryokan with onsen", "Tokyo", 31000),
    Item("osa-01", "Dotonbori street food tour", "Osaka", 7000),
    Item("osa-02", "Umeda river-view hotel", "Osaka", 15000),
    Item("hkd-01", "Hakodate night view cable car", "Hakodate", 3000),
    Item("nar-01", "Nara deer park cycling", "Nara", 4500),
    Item("hak-01", "Hakone onsen ryokan", "Hakone", 38000),
    Item("oki-01", "Okinawa snorkelling day", "Okinawa", 11000),
    Item("sap-01", "Sapporo snow festival hotel", "Sapporo", 18000),
    Item("uji-01", "Uji matcha tea ceremony", "Uji", 5000),
    Item("shz-01", "Shizuoka green tea farm visit", "Shizuoka", 6500),
)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · kunren demo shop</title></head>
<body><header><a href="/">kunren demo shop</a></header><main>
<h1>{title}</h1>
{content}
</main></body></html>
"""

_MAX_FORM = 64 * 1024


def page(title: str, content: str) -> bytes:
    return _PAGE.format(title=html.escape(title), content=content).encode()


def search(query: str) -> list[Item]:
    words = query.lower().split()
    return [
        item
        for item in CATALOGUE
        if all(word in f"{item.name} {item.city} {item.id}".lower() for word in words)
    ]


def _index() -> bytes:
    rows = "".join(
        f'<li><a href="/book?item={item.id}">{html.escape(item.name)}</a> '
        f"({html.escape(item.city)}, ¥{item.price:,})</li>"
        for item in CATALOGUE
    )
    content = (
        '<form action="/search"><input name="q" placeholder="Kyoto, onsen…">'
        "<button>Search</button></form>"
        f"<ul>{rows}</ul>"
    )
    return page("Stays and tours", content)


def _booking_form(selected: str | None, error: str = "") -> bytes:
    options = "".join(
        f'<option value="{item.id}"{" selected" if item.id == selected else ""}>'
        f"{html.escape(item.name)} ({html.escape(item.city)})</option>"
        for item in CATALOGUE
    )
    notice = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    content = (
        f'{notice}<form method="post" action="/book">'
        '<label>Name <input name="name" required></label> '
        f'<label>Stay or tour <select name="item">{options}</select></label> '
        '<label>Date <input name="date" type="date" required></label> '
        '<button type="submit">Book</button></form>'
    )
    return page("Book", content)


ROUTES = ("/", "/health", "/search", "/book", "/metrics")
LISTEN_BACKLOG = 1024  # http.server's default of 5 drops SYNs under a spike: 1 s retransmits


class Metrics:
    """Requests, errors (5xx) and latency by path, for Prometheus; absent without the extra."""

    def __init__(self) -> None:
        try:
            import prometheus_client as prom
        except ImportError:
            self.prom: Any = None
            return
        self.prom = prom
        self.registry = prom.CollectorRegistry()
        labels = ["method", "path", "status"]
        self.requests = prom.Counter(
            "http_requests", "Requests answered, by path and status", labels, registry=self.registry
        )
        self.errors = prom.Counter(
            "http_errors",
            "Requests answered 5xx, by path",
            ["method", "path"],
            registry=self.registry,
        )
        self.latency = prom.Histogram(
            "http_request_duration_seconds",
            "Time to answer, by path",
            ["path"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        if self.prom is None:
            return
        route = path if path in ROUTES else "other"  # bounded label values
        self.requests.labels(method, route, str(status)).inc()
        if status >= 500:
            self.errors.labels(method, route).inc()
        self.latency.labels(route).observe(seconds)

    def exposition(self) -> tuple[bytes, str] | None:
        if self.prom is None:
            return None
        # the 0.0.4 text format, which every Prometheus 2.x reads (newer clients default to 1.0.0)
        kind = getattr(self.prom, "CONTENT_TYPE_PLAIN_0_0_4", self.prom.CONTENT_TYPE_LATEST)
        return self.prom.generate_latest(self.registry), kind


METRICS = Metrics()


class ShopHandler(BaseHTTPRequestHandler):
    """One request; HTTP/1.1 keep-alive so a load generator can reuse connections."""

    protocol_version = "HTTP/1.1"
    # One packet per response: headers and body leave together, with no Nagle delay, or
    # keep-alive clients wait for delayed ACKs (~40 ms a request) and load tests crawl.
    wbufsize = -1
    disable_nagle_algorithm = True
    server_version = "kunren-demo-shop"
    bookings = itertools.count(1)
    bookings_lock = threading.Lock()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: a few hundred requests a second would drown the drill's console."""

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        started = getattr(self, "_started", None)
        if started is not None:
            METRICS.observe(
                self.command, urlsplit(self.path).path, status, perf_counter() - started
            )
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _html(self, status: int, body: bytes) -> None:
        self._send(status, body, "text/html; charset=utf-8")

    def do_HEAD(self) -> None:
        self.do_GET()

    def handle_one_request(self) -> None:
        self._started = perf_counter()
        super().handle_one_request()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/metrics":
            self._metrics()
        elif url.path == "/health":
            self._send(200, b"ok\n", "text/plain; charset=utf-8")
        elif url.path == "/search":
            text = query.get("q", [""])[0]
            found = [asdict(item) for item in search(text)]
            body = json.dumps({"query": text, "count": len(found), "results": found})
            self._send(200, body.encode(), "application/json")
        elif url.path == "/book":
            self._html(200, _booking_form(query.get("item", [None])[0]))
        elif url.path == "/":
            self._html(200, _index())
        else:
            self._html(404, page("Not found", "<p>No such page.</p>"))

    def _metrics(self) -> None:
        exposition = METRICS.exposition()
        if exposition is None:
            body = b"metrics need prometheus-client: pip install 'kunren[demo]'\n"
            self._send(501, body, "text/plain; charset=utf-8")
            return
        self._send(200, *exposition)

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/book":
            self._html(404, page("Not found", "<p>No such page.</p>"))
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_FORM:
            self.close_connection = True
            self._html(413, page("Too large", "<p>That form is too large.</p>"))
            return
        form = parse_qs(self.rfile.read(length).decode(errors="replace"))
        name = form.get("name", [""])[0].strip()
        item_id = form.get("item", [""])[0]
        date = form.get("date", [""])[0].strip()
        item = next((i for i in CATALOGUE if i.id == item_id), None)
        if not name or not date or item is None:
            self._html(400, _booking_form(item_id, "Please give your name, a stay and a date."))
            return
        with self.bookings_lock:
            reference = f"KR-{next(self.bookings):06d}"
        content = (
            f'<p id="confirmation">Booked: {html.escape(item.name)} on {html.escape(date)} '
            f"for {html.escape(name)}. Reference <strong>{reference}</strong>.</p>"
        )
        self._html(200, page("Booking confirmed", content))


class ShopServer(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG


def make_server(host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A bound shop server (port 0: any free port); call ``serve_forever()`` to run it."""
    server = ShopServer((host, port), ShopHandler)
    server.daemon_threads = True
    return server


@contextmanager
def serving(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run the shop on a thread for the ``with`` block; yields its base URL.

    For tests and notebooks: ``with serving() as url: ...`` (the port is chosen free)."""
    server = make_server(host, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        bound_host, bound_port = server.server_address[:2]
        yield f"http://{bound_host!s}:{bound_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kunren.demo.shop", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (0: any free port)")
    args = parser.parse_args(argv)
    try:
        server = make_server(args.host, args.port)
    except OSError as exc:
        sys.stderr.write(f"demo shop: cannot listen on {args.host}:{args.port}: {exc}\n")
        return 1

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever() to return, so it must run on another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = server.server_address[:2]
    sys.stderr.write(f"kunren demo shop listening on http://{host!s}:{port}\n")
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
