"""kunren's built-in locustfile: every user GETs the scenario's ``load.urls`` in turn.

It exists so a scenario can put load on a service without anyone writing a locustfile
(``load: {urls: [/, /search?q=shoes]}``). Locust loads it by path in its own process; kunren
never imports it (importing locust monkey-patches the importing process with gevent), which is
also why this folder has no ``__init__.py``.

The list comes from ``KUNREN_LOAD_URLS_FILE`` (a JSON list the driver writes into the drill
folder) or ``KUNREN_LOAD_URLS`` (the same JSON inline, handy when running this file by hand).
A URL may be a path (joined to ``--host``) or absolute. Each user sends about one request per
second (``constant_pacing(1)``), so a stage's ``users`` reads as requests per second.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path

import gevent  # type: ignore[import-untyped]
from locust import HttpUser, constant_pacing, task


def _load_urls() -> list[str]:
    file = os.environ.get("KUNREN_LOAD_URLS_FILE")
    raw = Path(file).read_text(encoding="utf-8") if file else os.environ.get("KUNREN_LOAD_URLS")
    if not raw:
        raise RuntimeError("kunren urls locustfile: set KUNREN_LOAD_URLS_FILE or KUNREN_LOAD_URLS")
    urls = json.loads(raw)
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        raise RuntimeError("kunren urls locustfile: expected a non-empty JSON list of URLs")
    return [str(u) for u in urls]


URLS = _load_urls()
# One shared cycle: users are greenlets in one process, so taking turns needs no lock.
_NEXT_URL: Iterator[str] = itertools.cycle(URLS)


class UrlsUser(HttpUser):
    """Requests the listed URLs one after another, about once per second per user."""

    wait_time = constant_pacing(1.0)

    def on_start(self) -> None:
        # Users spawned together would otherwise fire in step, once a second: spread them
        # over the second so a short polling interval sees an even rate.
        gevent.sleep(random.random())

    @task
    def get_next_url(self) -> None:
        url = next(_NEXT_URL)
        self.client.get(url, name=url)
