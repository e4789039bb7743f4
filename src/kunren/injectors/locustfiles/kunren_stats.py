"""A Locust extension kunren loads next to every locustfile (``-f yours.py,kunren_stats.py``).

Why it exists:

- ``GET /kunren/stats`` on the master's web port returns the cumulative request and failure
  counts and the response-time histogram of every endpoint. Locust's own ``/stats/requests``
  only offers cumulative percentiles per endpoint and a ~10 s window for the total; the
  histograms let kunren compute exact p50/p95 for each polling interval and each endpoint
  (the difference of two histograms is the interval's histogram).
- The master counts the reports it receives from each worker, so kunren knows when every
  worker's final numbers have arrived after a stop (workers report every 3 s).
- A watchdog ends the process with SIGTERM (Locust's clean shutdown) when the kunren process
  that started it is gone, so a conductor killed with SIGKILL leaves no load running.

Add it to an existing master's ``-f`` list to get the same exact numbers from a remote master;
without it kunren falls back to ``/stats/requests``. Like ``urls.py`` it is loaded only by
Locust, never imported by kunren.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from typing import Any

import gevent  # type: ignore[import-untyped]
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner
from locust.stats import StatsEntry

PARENT_PID_ENV = "KUNREN_PARENT_PID"
_worker_reports: Counter[str] = Counter()


def _entry(entry: StatsEntry) -> dict[str, Any]:
    return {
        "name": entry.name,
        "method": entry.method or "",
        "num_requests": entry.num_requests,
        "num_failures": entry.num_failures,
        "response_times": {str(ms): count for ms, count in entry.response_times.items()},
    }


def _snapshot(environment: Environment) -> dict[str, Any]:
    runner = environment.runner
    if runner is None:
        return {"kunren": 1, "state": "missing", "user_count": 0, "worker_count": 0}
    return {
        "kunren": 1,
        "state": runner.state,
        "user_count": runner.user_count,
        "worker_count": runner.worker_count if isinstance(runner, MasterRunner) else 0,
        "worker_reports": dict(_worker_reports),
        "total": _entry(runner.stats.total),
        "entries": [_entry(e) for e in runner.stats.entries.values()],
    }


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        gevent.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)


def _count_report(client_id: str, data: dict[str, Any], **_kwargs: Any) -> None:
    _worker_reports[client_id] += 1


def _on_init(environment: Environment, **_kwargs: Any) -> None:
    parent = os.environ.get(PARENT_PID_ENV, "")
    if parent.isdigit():
        gevent.spawn(_watch_parent, int(parent))
    app = environment.web_ui.app if environment.web_ui is not None else None
    if app is None:
        return  # a worker, or a headless run: nothing to serve
    app.add_url_rule("/kunren/stats", "kunren_stats", lambda: _snapshot(environment))


# Locust's EventHook.add_listener is unannotated.
events.worker_report.add_listener(_count_report)  # type: ignore[no-untyped-call]
events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]
