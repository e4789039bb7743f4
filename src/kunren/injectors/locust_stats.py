"""Turning a Locust master's cumulative statistics into per-interval ``load.stats`` numbers.

Locust only reports totals since the run started; a drill report needs "what happened in the
last 5 seconds" to draw the spike against the faults. So the driver keeps the previous
cumulative snapshot and records the difference: request and failure counts over real elapsed
time give rps and failures/s, and the difference of two response-time histograms gives the
interval's own p50/p95, per endpoint.

Pure functions and plain data only, so the arithmetic is tested without a running Locust.
Two input shapes are understood: kunren's ``/kunren/stats`` route (histograms; see
``locustfiles/kunren_stats.py``) and Locust's stock ``/stats/requests`` for a master that was
started without kunren's extension (then p50/p95 are Locust's current ~10 s window for the
total, and unknown per endpoint).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from kunren.errors import KunrenError
from kunren.record.events import EndpointStats, LoadStats

Histogram = Mapping[int, int]  # response time in ms (as Locust rounds it) -> request count


@dataclass(frozen=True)
class EntrySnapshot:
    """One endpoint (or the total) as the master saw it at one moment, cumulative."""

    name: str
    method: str
    requests: int
    failures: int
    histogram: Histogram | None = None  # None: the master has no kunren route
    p50_ms: float | None = None  # only without a histogram: Locust's current percentiles
    p95_ms: float | None = None


@dataclass(frozen=True)
class Snapshot:
    """The master's cumulative statistics at ``taken`` (seconds on kunren's monotonic clock)."""

    taken: float
    state: str
    users: int
    workers: int
    total: EntrySnapshot
    entries: tuple[EntrySnapshot, ...] = ()
    worker_reports: Mapping[str, int] = field(default_factory=dict)
    exact: bool = True  # False: parsed from /stats/requests (no histograms, no report counts)


# ------------------------------------------------------------------ parsing the master's JSON


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


_W = TypeVar("_W", bound=_Wire)


class _KunrenEntry(_Wire):
    name: str
    method: str = ""
    num_requests: int
    num_failures: int
    response_times: dict[int, int]


class _KunrenStats(_Wire):
    state: str
    user_count: int = 0
    worker_count: int = 0
    worker_reports: dict[str, int] = {}
    total: _KunrenEntry | None = None
    entries: list[_KunrenEntry] = []


class _LocustEntry(_Wire):
    name: str
    method: str | None = ""
    num_requests: int
    num_failures: int


class _LocustStats(_Wire):
    state: str
    user_count: int = 0
    worker_count: int = 0
    stats: list[_LocustEntry] = []
    current_response_time_percentiles: dict[str, float | None] = {}


def parse_kunren_stats(body: bytes, taken: float) -> Snapshot:
    """Parse ``GET /kunren/stats``."""
    wire = _validate(_KunrenStats, body, "/kunren/stats")

    def entry(e: _KunrenEntry) -> EntrySnapshot:
        return EntrySnapshot(e.name, e.method, e.num_requests, e.num_failures, e.response_times)

    total = entry(wire.total) if wire.total else EntrySnapshot("Aggregated", "", 0, 0, {})
    return Snapshot(
        taken=taken,
        state=wire.state,
        users=wire.user_count,
        workers=wire.worker_count,
        total=total,
        entries=tuple(entry(e) for e in wire.entries),
        worker_reports=dict(wire.worker_reports),
    )


def parse_locust_stats(body: bytes, taken: float) -> Snapshot:
    """Parse Locust's stock ``GET /stats/requests`` (the last row is the aggregate)."""
    wire = _validate(_LocustStats, body, "/stats/requests")
    rows = [
        EntrySnapshot(e.name, e.method or "", e.num_requests, e.num_failures) for e in wire.stats
    ]
    current = wire.current_response_time_percentiles
    total = rows.pop() if rows else EntrySnapshot("Aggregated", "", 0, 0)
    total = EntrySnapshot(
        total.name,
        total.method,
        total.requests,
        total.failures,
        p50_ms=current.get("response_time_percentile_0.5"),
        p95_ms=current.get("response_time_percentile_0.95"),
    )
    return Snapshot(
        taken=taken,
        state=wire.state,
        users=wire.user_count,
        workers=wire.worker_count,
        total=total,
        entries=tuple(rows),
        exact=False,
    )


def _validate(model: type[_W], body: bytes, route: str) -> _W:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise KunrenError(
            f"load: unexpected answer from the Locust master's {route}: {where}: {first['msg']}"
        ) from exc


# ------------------------------------------------------------------ the interval arithmetic


def percentile(histogram: Histogram, fraction: float) -> float | None:
    """The response time below which ``fraction`` of the requests fall, as Locust computes it."""
    count = sum(histogram.values())
    if count <= 0:
        return None
    below_allowed = int(count * fraction)
    seen = 0
    for ms in sorted(histogram, reverse=True):
        seen += histogram[ms]
        if count - seen <= below_allowed:
            return float(ms)
    return float(min(histogram))


def _histogram_delta(now: Histogram, before: Histogram) -> dict[int, int]:
    delta = {ms: n - before.get(ms, 0) for ms, n in now.items()}
    return {ms: n for ms, n in delta.items() if n > 0}


def _entry_delta(
    now: EntrySnapshot, before: EntrySnapshot | None, elapsed: float
) -> tuple[float, float, float | None, float | None]:
    requests = now.requests - (before.requests if before else 0)
    failures = now.failures - (before.failures if before else 0)
    if now.histogram is not None:
        earlier = before.histogram if before and before.histogram is not None else {}
        hist = _histogram_delta(now.histogram, earlier)
        p50, p95 = percentile(hist, 0.5), percentile(hist, 0.95)
    else:
        p50, p95 = now.p50_ms, now.p95_ms
    return max(requests, 0) / elapsed, max(failures, 0) / elapsed, p50, p95


def interval_stats(before: Snapshot, now: Snapshot) -> LoadStats:
    """The ``load.stats`` event (unstamped) for the time between two snapshots."""
    elapsed = max(now.taken - before.taken, 1e-3)
    if now.total.requests < before.total.requests:
        # Locust clears its statistics when a run (re)starts: count from zero again.
        before = Snapshot(before.taken, before.state, 0, 0, EntrySnapshot("Aggregated", "", 0, 0))
    previous = {(e.name, e.method): e for e in before.entries}
    endpoints: list[EndpointStats] = []
    for entry in now.entries:
        rps, fps, p50, p95 = _entry_delta(entry, previous.get((entry.name, entry.method)), elapsed)
        if rps == 0 and fps == 0:
            continue  # not requested in this interval
        endpoints.append(
            EndpointStats(
                name=entry.name,
                method=entry.method,
                rps=round(rps, 3),
                failures_per_s=round(fps, 3),
                p50_ms=p50,
                p95_ms=p95,
            )
        )
    rps, fps, p50, p95 = _entry_delta(now.total, before.total, elapsed)
    return LoadStats(
        users=now.users,
        rps=round(rps, 3),
        failures_per_s=round(fps, 3),
        p50_ms=p50,
        p95_ms=p95,
        endpoints=endpoints,
    )
