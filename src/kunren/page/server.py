"""Serving the participant app with uvicorn inside the conductor's own asyncio loop.

The drill has one loop and one clock, so the web server is a task in that loop, not a thread
or a process: a click is recorded between two steps of the drill, never at the same time as
one. The conductor owns Ctrl-C (it must revert faults first), so uvicorn is told not to
install signal handlers, and not to touch logging configuration. The socket is bound here,
before uvicorn starts, so a busy port becomes one clear error instead of uvicorn's exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from kunren.errors import GuardrailError, KunrenError
from kunren.page.options import WebLinks
from kunren.page.pauses import Freezer
from kunren.page.security import is_loopback

if TYPE_CHECKING:
    from kunren.page.control import DrillControl


STARTUP_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
# How long an idle keep-alive connection stays open. uvicorn's default, 5 s, is shorter than a
# person's pause between two clicks: the server closes the connection as the next click is sent
# on it, and a client that does not retry a POST (Locust; a browser after a response was
# started) gets no answer at all (issue 17: 308 failed marks, "status 0", at load 26-31, where
# a starved client paused longer). 75 s is nginx's default; browsers drop theirs sooner.
KEEP_ALIVE_SECONDS = 75


class RunningServer:
    """The participant page being served: its base ``url``, and ``stop()``."""

    def __init__(
        self,
        server: Any,
        task: asyncio.Task[None],
        sock: socket.socket,
        url: str,
        on_stop: Callable[[], None] | None = None,
        freezer: Freezer | None = None,
    ) -> None:
        self._server = server
        self._on_stop = on_stop
        self._freezer = freezer
        self._task = task
        self._sock = sock
        self.url = url
        self.host, self.port = sock.getsockname()[:2]

    def link(self, path: str, token: str) -> str:
        """An address to hand out: ``path`` on this server with ``token`` in the query."""
        return f"{self.url}{path}?token={token}"

    def links(self, control: DrillControl) -> WebLinks:
        return WebLinks(
            join=self.link("/", control.participant_token),
            facilitator=self.link("/facilitator", control.facilitator_token),
            # the intake takes the intake token only, in a header: never in a handed-out link
            alertmanager=f"{self.url}/intake/alertmanager",
            pagerduty=f"{self.url}/intake/pagerduty",
            generic=f"{self.url}/intake/generic",
        )

    @property
    def running(self) -> bool:
        return not self._task.done()

    async def stop(self) -> None:
        """Finish the requests in flight, close connections and the socket (idempotent).

        Open pages' event streams never finish by themselves, and uvicorn waits for every
        response before it stops: they are ended first, so a stop is as quick with a
        thousand open pages as with none (the drill's end must not wait on its page)."""
        if not self._task.done():
            if self._on_stop is not None:
                self._on_stop()
            self._server.should_exit = True
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_TIMEOUT)
            except TimeoutError:
                self._server.force_exit = True
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(self._task, STOP_TIMEOUT)
        self._sock.close()
        if self._freezer is not None:
            await self._freezer.stop()


def refuse_remote(host: str, allow_remote: bool) -> None:
    """GuardrailError (exit 2) for an address beyond loopback without ``allow_remote``; the
    CLI calls it before a drill folder is made, so a refused run writes nothing."""
    if not is_loopback(host) and not allow_remote:
        raise GuardrailError(
            f"refusing to serve the participant page on {host}: it is reachable beyond this "
            "machine; bind 127.0.0.1, or allow it explicitly (--allow-remote)"
        )


async def serve(
    app: Any, host: str = "127.0.0.1", port: int = 0, *, allow_remote: bool = False
) -> RunningServer:
    """Start serving ``app`` on ``host:port`` (0: any free port) in the running loop.

    A ``host`` reachable from other machines (``0.0.0.0``, a LAN address) is refused unless
    ``allow_remote`` is set: the page can run runbooks against real systems.
    """
    refuse_remote(host, allow_remote)
    import uvicorn  # heavy, and only needed while a drill is served

    sock = _bind(host, port)
    config = uvicorn.Config(
        app,
        log_config=None,  # the conductor's logging stays as it is
        access_log=False,  # join links carry tokens; keep them out of logs
        lifespan="off",
        ws="none",
        server_header=False,
        timeout_graceful_shutdown=2,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        # every open page holds its event stream and a keep-alive connection for its posts,
        # so the limit counts two per person, not requests: far above any drill's crowd
        # (300 people got 503s at 200; 1,000 people hold 2,000 connections)
        limit_concurrency=5000,
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="kunren-web")
    try:
        await _started(server, task)
    except BaseException:
        server.should_exit = True
        sock.close()
        raise
    on_stop = getattr(getattr(app, "state", None), "on_stop", None)  # the page's, not intake's
    freezer = Freezer()  # short collector pauses however many people are on the page
    freezer.start()
    return RunningServer(server, task, sock, _url(host, sock), on_stop, freezer)


class _QuietServer:
    """uvicorn's Server without its signal handlers (created lazily: uvicorn is optional)."""

    def __new__(cls, config: Any) -> Any:
        import uvicorn

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield

        return Server(config)


def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise KunrenError(f"cannot serve on {host}: {exc.strerror}") from exc
    family, kind, proto, _, address = infos[0]
    # proto must say TCP: asyncio only sets TCP_NODELAY on accepted sockets that do, and
    # without it every keep-alive response body waits out a delayed ACK (~40 ms).
    sock = socket.socket(family, kind, proto or socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise KunrenError(f"cannot serve on {host}:{port}: {exc.strerror}") from exc
    return sock


async def _started(server: Any, task: asyncio.Task[None]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT
    while not server.started:
        if task.done():
            exc = task.exception()
            raise KunrenError(f"the participant page did not start: {exc}") from exc
        if loop.time() > deadline:
            raise KunrenError("the participant page did not start within 10s")
        await asyncio.sleep(0.01)


def _url(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
