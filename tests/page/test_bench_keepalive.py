"""The page benchmark's simulated participants reuse their connections past descriptor 1,023.

``bench/locustfiles/keepalive.py`` replaces geventhttpclient's ``select``-based check of a
pooled connection, which takes every descriptor of 1,024 or more for a dead connection. Here a
real gevent-patched process (as Locust's is) pushes its descriptors past 1,024 and sends three
requests through geventhttpclient's own client to a real keep-alive HTTP server on 127.0.0.1,
which counts the connections it accepts.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

LOCUSTFILES = Path(__file__).resolve().parents[2] / "bench" / "locustfiles"

CLIENT = textwrap.dedent(
    """
    import resource, sys
    from gevent import monkey
    monkey.patch_all()
    sys.path.insert(0, sys.argv[1])
    import keepalive
    from geventhttpclient import HTTPClient

    port, install = int(sys.argv[2]), sys.argv[3] == "install"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        print("limit", hard)
        sys.exit(0)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    held = [open("/dev/null") for _ in range(1100)]  # the next descriptors are above 1,023
    if install:
        assert keepalive.install()
    client = HTTPClient("127.0.0.1", port, concurrency=1, network_timeout=10)
    fds = set()
    for _ in range(3):
        response = client.get("/")
        assert response.status_code == 200, response.status_code
        response.read()
        fds.add(client._connection_pool._socket_queue.peek().fileno())
    client.close()
    print("fds", *sorted(fds))
    """
)


class _Counting(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0  # accepted: one handler per connection, however many requests it carries


class _KeepAlive(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # the connection stays open after each response

    def setup(self) -> None:
        super().setup()
        assert isinstance(self.server, _Counting)
        self.server.connections += 1

    def do_GET(self) -> None:
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_Counting]:
    httpd = _Counting(("127.0.0.1", 0), _KeepAlive)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def _three_requests(server: _Counting, how: str) -> list[int]:
    port = server.server_address[1]
    done = subprocess.run(
        [sys.executable, "-c", CLIENT, str(LOCUSTFILES), str(port), how],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    words = done.stdout.split()
    if words[:1] == ["limit"]:
        pytest.skip(f"this machine allows {words[1]} open files; the case needs 1,200")
    assert words[0] == "fds", done.stdout
    return [int(w) for w in words[1:]]


@pytest.mark.integration
def test_clicks_past_descriptor_1023_reuse_one_connection(server: _Counting) -> None:
    fds = _three_requests(server, "install")
    assert min(fds) >= 1024  # the case the select()-based check gets wrong
    assert server.connections == 1


@pytest.mark.integration
def test_the_clients_own_check_is_what_the_module_replaces(server: _Counting) -> None:
    """Without it, this geventhttpclient opens a connection per request up there.

    That makes the test above one that can fail. A release of geventhttpclient that keeps its
    connections by itself makes this one skip, saying that keepalive.py can go.
    """
    fds = _three_requests(server, "plain")
    assert min(fds) >= 1024
    if server.connections == 1:
        pytest.skip("this geventhttpclient keeps connections past 1,023: keepalive.py can go")
    assert server.connections == 3
