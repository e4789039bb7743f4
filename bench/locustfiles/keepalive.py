"""Simulated participants keep their connections open, as a browser does.

geventhttpclient (2.6.1, the HTTP client of Locust's ``FastHttpUser``) checks a pooled
connection before reusing it with ``select.select([sock], [], [], 0)``. ``select`` cannot take a
descriptor of 1,024 or more (``ValueError: filedescriptor out of range``), and the check takes
that error for a dead connection. A thousand participants hold two connections each (the page's
event stream and the one for clicks), so most of them get descriptors above that limit, and
every click of theirs went out on a new TCP connection: 5,860 connections for 11,000 requests in
one run (2026-12-02), where 10 people opened one each. Their clicks were timed with a connection
set-up a browser would not have made, and the server accepted a connection per click.

:func:`install` replaces that check with the same test made with ``poll()``, which has no
descriptor limit: a connection idle in the pool is alive unless it is readable (the server
closed it, or sent something unasked) or in error. It is the original, not gevent's, ``poll``:
a zero timeout never waits, so the hub is not involved. Nothing else about the load changes.
"""

from __future__ import annotations

import select
from typing import Any


def alive(sock: Any) -> bool:
    """True when an idle pooled connection can carry the next request."""
    if sock is None:
        return False
    from gevent import monkey  # type: ignore[import-untyped]  # Locust's own, no stubs

    try:
        fd = sock.fileno()
        if fd < 0:
            return False
        poller = monkey.get_original("select", "poll")()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)  # POLLHUP, POLLERR and POLLNVAL are always reported
    except (OSError, ValueError):
        return False


def install() -> bool:
    """Use :func:`alive` for geventhttpclient's check; False when this version has none.

    Imported here, after Locust has patched the process with gevent (see the module's users).
    """
    from geventhttpclient import connectionpool

    pool = connectionpool.ConnectionPool
    if not hasattr(pool, "_is_socket_alive"):
        return False  # an older client, which does not check (and does not need this)
    pool._is_socket_alive = lambda self, sock: alive(sock)  # type: ignore[method-assign]
    return True
