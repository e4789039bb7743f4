"""A Locust extension kunren loads next to every locustfile (``-f yours.py,kunren_stats.py``).

Why it exists:

- ``GET /kunren/stats`` on the master's web port returns the cumulative request and failure
  counts and the response-time histogram of every endpoint. Locust's own ``/stats/requests``
  only offers cumulative percentiles per endpoint and a ~10 s window for the total; the
  histograms let kunren compute exact p50/p95 for each polling interval and each endpoint
  (the difference of two histograms is the interval's histogram).
- The master counts the reports it receives from each worker, so kunren knows when every
  worker's final numbers have arrived after a stop (workers report every 3 s).
- On shutdown (SIGTERM) the master writes the same numbers to ``KUNREN_FINAL_STATS_FILE``
  after its workers' final reports are in, so stopping a drill's own Locust takes about a
  second and still keeps the last interval's numbers.
- Workers kunren starts report to their master every second instead of every 3 s
  (``KUNREN_WORKER_REPORT_INTERVAL``), so a short polling interval still sees fresh numbers.
- A watchdog ends the process with SIGTERM (Locust's clean shutdown) when the kunren process
  that started it is gone, so a conductor killed with SIGKILL leaves no load running.

Add it to an existing master's ``-f`` list to get the same exact numbers from a remote master;
without it kunren falls back to ``/stats/requests``. Like ``urls.py`` it is loaded only by
Locust, never imported by kunren.
"""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from typing import Any

import gevent  # type: ignore[import-untyped]
import locust.runners
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner
from locust.stats import StatsEntry

PARENT_PID_ENV = "KUNREN_PARENT_PID"
FINAL_STATS_ENV = "KUNREN_FINAL_STATS_FILE"
REPORT_INTERVAL_ENV = "KUNREN_WORKER_REPORT_INTERVAL"
_worker_reports: Counter[str] = Counter()
_environments: list[Environment] = []  # the one Environment of this process, once initialised


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


def _write_final_stats(exit_code: int, **_kwargs: Any) -> None:
    path = os.environ.get(FINAL_STATS_ENV)
    if not path or not _environments:
        return
    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as file:
        json.dump(_snapshot(_environments[0]), file)
    os.replace(partial, path)  # readers never see half a file


def _count_report(client_id: str, data: dict[str, Any], **_kwargs: Any) -> None:
    _worker_reports[client_id] += 1


def _on_init(environment: Environment, **_kwargs: Any) -> None:
    _environments.append(environment)
    parent = os.environ.get(PARENT_PID_ENV, "")
    if parent.isdigit():
        gevent.spawn(_watch_parent, int(parent))
    app = environment.web_ui.app if environment.web_ui is not None else None
    if app is None:
        return  # a worker, or a headless run: nothing to serve
    app.add_url_rule("/kunren/stats", "kunren_stats", lambda: _snapshot(environment))


if os.environ.get(REPORT_INTERVAL_ENV):
    # Read by the worker's stats_reporter on every round, so setting it here takes effect.
    locust.runners.WORKER_REPORT_INTERVAL = float(os.environ[REPORT_INTERVAL_ENV])

# Locust's EventHook.add_listener is unannotated.
events.worker_report.add_listener(_count_report)  # type: ignore[no-untyped-call]
events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]
# ``quit`` fires after the runner has quit (and collected its workers' final reports).
events.quit.add_listener(_write_final_stats)  # type: ignore[no-untyped-call]
