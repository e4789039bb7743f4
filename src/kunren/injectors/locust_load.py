"""The load driver: a scenario's ``load`` section, run by Locust on the drill clock.

The conductor owns the schedule (which stage at which drill time, how often to poll) and the
event log; this driver owns Locust: it starts the processes (or finds an existing master),
moves the user count when told, turns Locust's cumulative numbers into per-interval
``load.stats`` and, on stop or abort, ends the load within seconds while keeping the last
interval's numbers.

Three shapes of the same thing, all driven through the master's web API (``locust_api``):

- ``distributed.workers: 0``: one standalone Locust process, web API on 127.0.0.1.
- ``distributed.workers: N``: a master bound to 127.0.0.1 and N local worker processes.
- ``master: {host, port, web_port}``: an existing master whose workers run elsewhere (another
  host, a Kubernetes deployment); kunren starts and ends nothing, it only drives and reads.

Locust never runs inside the conductor's process (see ``locust_process``). With the virtual
clock no load is generated at all: the conductor records the stages as planned instead
(``kunren.runtime.clock.is_virtual``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import json
from pathlib import Path
from types import TracebackType

from kunren.errors import KunrenError, PluginError
from kunren.injectors.locust_api import MasterApi
from kunren.injectors.locust_process import (
    FINAL_STATS_ENV,
    REPORT_INTERVAL_ENV,
    LocustProcess,
    locust_env,
)
from kunren.injectors.locust_stats import Snapshot, interval_stats, parse_kunren_stats
from kunren.record.events import LoadStats
from kunren.runtime.clock import monotonic
from kunren.runtime.context import DrillContext
from kunren.runtime.ports import free_port
from kunren.scenarios.models import Load

LOCUSTFILES = Path(__file__).parent / "locustfiles"
URLS_LOCUSTFILE = LOCUSTFILES / "urls.py"
STATS_EXTENSION = LOCUSTFILES / "kunren_stats.py"

WORKER_REPORT_INTERVAL = 1.0  # how often our own workers report (Locust's default: 3 s)
LOCUST_REPORT_INTERVAL = 3.0  # how often workers of an existing master report
_POLL = 0.2  # real seconds between readiness checks (Locust starts in real time)
_WORKER_QUIT = 2.0  # real seconds a worker gets to follow its master's quit before SIGTERM


class MasterLost(KunrenError):
    """The Locust master (or standalone process) kunren started has exited mid-drill: no
    load can be driven any more. Workers dying is not this: the master carries on with the
    rest, and ``lost()`` reports them."""


@dataclasses.dataclass(frozen=True)
class LostProcess:
    """A Locust process of this drill that exited by itself: which, its code, why."""

    name: str
    code: int | None
    detail: str
    master: bool


class LoadDriver:
    """Runs one drill's Locust load: ``start``, ``set_stage``…, ``poll_stats``…, ``stop``.

    Also an async context manager (``async with LoadDriver(...) as load:``) that always stops.
    """

    def __init__(
        self,
        ctx: DrillContext,
        load: Load,
        workdir: Path,
        *,
        ready_timeout: float = 30.0,
        stop_grace: float = 5.0,
        final_report_wait: float = LOCUST_REPORT_INTERVAL + 2.0,
    ) -> None:
        self._ctx = ctx
        self._load = load
        # Absolute: Locust runs with this folder as its working directory.
        self._workdir = workdir.absolute()
        self._ready_timeout = ready_timeout
        self._stop_grace = stop_grace
        # An existing master's workers report every LOCUST_REPORT_INTERVAL: stopping waits at
        # most this long for their last reports (a stock master never says they are complete).
        self._final_report_wait = final_report_wait
        self._api: MasterApi | None = None
        self._processes: list[LocustProcess] = []
        self._last: Snapshot | None = None
        self._state = "new"  # new -> running -> stopped
        self._final_file = self._workdir / "locust-final-stats.json"
        self._reported: set[str] = set()  # names of exited processes already reported

    # ------------------------------------------------------------------ what callers may read

    @property
    def web_url(self) -> str | None:
        """The master's web UI, where a facilitator can watch the load live."""
        return self._api.base_url if self._api else None

    @property
    def pids(self) -> list[int]:
        """Process ids of the Locust processes this driver started (none for an existing master)."""
        return [p.pid for p in self._processes if p.pid is not None]

    @property
    def exact(self) -> bool:
        """True when p50/p95 are exact per interval and endpoint (kunren's stats route)."""
        return self._api.exact if self._api else False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start Locust (or reach the existing master) and wait, bounded, until it is ready."""
        if self._state != "new":
            raise KunrenError("load: this load driver was already started")
        self._state = "running"
        try:
            if self._load.master is not None:
                master = self._load.master
                self._api = MasterApi(f"http://{master.host}:{master.web_port}")
                self._last = await self._wait_ready(workers=1)
            else:
                self._api = await self._spawn()
                self._last = await self._wait_ready(self._load.distributed.workers)
        except BaseException:
            self._state = "stopped"
            await self._terminate_all()
            raise

    async def set_stage(self, users: int, spawn_rate: float) -> None:
        """Move the load to ``users`` users, spawned (or stopped) at ``spawn_rate`` per second."""
        api = self._running_api("set a load stage")
        self._check_processes()
        await api.swarm(users, spawn_rate, self._load.host)

    async def poll_stats(self) -> LoadStats | None:
        """The numbers for the interval since the previous poll (None once stopped).

        Unstamped: the caller stamps and records it. ``users`` is the count at the poll.
        """
        if self._state != "running" or self._api is None or self._last is None:
            return None
        self._check_processes()
        try:
            snapshot = await self._api.snapshot()
        except KunrenError:
            if self._state != "running":
                return None  # stop() ended Locust while this poll was in flight
            raise
        stats = interval_stats(self._last, snapshot)
        self._last = snapshot
        return stats

    async def stop(self) -> LoadStats | None:
        """Stop the load within seconds and return the final interval's numbers.

        Idempotent: later calls return None. Processes this driver started are always ended
        (SIGTERM, then SIGKILL after the grace). An existing master that cannot be told to stop
        raises, because its load may still be running.
        """
        if self._state != "running":
            self._state = "stopped"
            return None
        self._state = "stopped"
        try:
            if self._load.master is not None:
                return await self._stop_existing_master()
            return await self._stop_own_processes()
        finally:
            await self._terminate_all()

    async def __aenter__(self) -> LoadDriver:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ starting

    async def _spawn(self) -> MasterApi:
        if importlib.util.find_spec("locust") is None:
            raise PluginError("load: Locust is not installed: pip install 'kunren[load]'")
        self._workdir.mkdir(parents=True, exist_ok=True)
        files = f"{self._user_locustfile()},{STATS_EXTENSION}"
        env = locust_env(self._extra_env())
        self._final_file.unlink(missing_ok=True)  # left by an earlier run in this folder
        master_env = {**env, FINAL_STATS_ENV: str(self._final_file)}
        web_port = free_port()
        workers = self._load.distributed.workers
        head = ["-f", files, "--host", self._load.host]
        head += ["--web-host", "127.0.0.1", "--web-port", str(web_port)]
        if workers:
            master_port = free_port()
            head += ["--master", "--master-bind-host", "127.0.0.1"]
            head += ["--master-bind-port", str(master_port)]
        name = "master" if workers else "process"
        self._processes.append(self._process(name, head, master_env))
        worker_env = {**env, REPORT_INTERVAL_ENV: str(WORKER_REPORT_INTERVAL)}
        for n in range(1, workers + 1):
            args = ["-f", files, "--worker", "--master-host", "127.0.0.1"]
            args += ["--master-port", str(master_port)]
            self._processes.append(self._process(f"worker {n}", args, worker_env))
        for process in self._processes:
            await process.start()
        return MasterApi(f"http://127.0.0.1:{web_port}")

    def _process(self, name: str, args: list[str], env: dict[str, str]) -> LocustProcess:
        log = self._workdir / f"locust-{name.replace(' ', '-')}.log"
        return LocustProcess(name, args, log, env, cwd=self._workdir)

    def _user_locustfile(self) -> Path:
        if self._load.locustfile is None:
            return URLS_LOCUSTFILE
        path = self._ctx.resolve_path(self._load.locustfile).resolve()
        if not path.is_file():
            raise KunrenError(f"load.locustfile: {path} does not exist")
        return path

    def _extra_env(self) -> dict[str, str]:
        if not self._load.urls:
            return {}
        urls_file = self._workdir / "load-urls.json"
        urls_file.write_text(json.dumps(self._load.urls), encoding="utf-8")
        return {"KUNREN_LOAD_URLS_FILE": str(urls_file)}

    async def _wait_ready(self, workers: int) -> Snapshot:
        """Poll until the master answers with ``workers`` workers connected, or fail clearly."""
        api = self._running_api("wait for Locust")
        deadline = monotonic() + self._ready_timeout
        while True:
            self._check_processes(before_ready=True)
            try:
                snapshot: Snapshot | None = await api.snapshot()
                error = ""
            except KunrenError as exc:
                snapshot, error = None, str(exc)
            if snapshot is not None and snapshot.workers >= workers:
                return snapshot
            if monotonic() >= deadline:
                raise self._not_ready(snapshot, workers, error)
            await asyncio.sleep(_POLL)  # real time: Locust starts in real time, whatever the clock

    def _not_ready(self, snapshot: Snapshot | None, workers: int, error: str) -> KunrenError:
        waited = f"{self._ready_timeout:g}s"
        if snapshot is None:
            logs = "".join(f" (log: {p.log_path})" for p in self._processes[:1])
            return KunrenError(f"{error}; not ready within {waited}{logs}")
        return KunrenError(
            f"load: Locust master at {self.web_url} has {snapshot.workers} of {workers} "
            f"workers connected after {waited}"
        )

    # ------------------------------------------------------------------ running and stopping

    def _running_api(self, action: str) -> MasterApi:
        if self._state != "running" or self._api is None:
            raise KunrenError(f"load: cannot {action}: the load is not running")
        return self._api

    def lost(self) -> list[LostProcess]:
        """Processes this driver started that exited by themselves since the last call, each
        reported once (none once the load is stopped: then kunren ended them)."""
        if self._state != "running":
            return []
        found = []
        for index, process in enumerate(self._processes):
            if process.returncode is not None and process.name not in self._reported:
                self._reported.add(process.name)
                found.append(
                    LostProcess(process.name, process.returncode, process.failure(), index == 0)
                )
        return found

    def _check_processes(self, before_ready: bool = False) -> None:
        """Before ready, any exit fails the start. During the drill only the master's is an
        error (MasterLost): the master carries on with the workers it has left."""
        for index, process in enumerate(self._processes):
            if process.returncode is None:
                continue
            if before_ready:
                raise KunrenError(
                    f"load: the Locust {process.name} exited before it was ready: "
                    f"{process.failure()}"
                )
            if index == 0:
                raise MasterLost(
                    f"load: the Locust {process.name} exited during the drill: {process.failure()}"
                )

    async def _stop_own_processes(self) -> LoadStats | None:
        # SIGTERM makes the master quit its workers, wait for their final reports and write
        # the final numbers (kunren_stats extension): about a second, and nothing is lost.
        await self._processes[0].terminate(self._stop_grace)  # raises if it will not end
        # Users stop somewhere between the signal and the exit; counting the interval up to
        # the exit keeps a stop just after a poll from dividing by almost nothing.
        ended_at = monotonic()
        await self._terminate_all()
        if self._last is None or not self._final_file.is_file():
            return None  # the master had to be killed: the polls so far are all there is
        final = parse_kunren_stats(self._final_file.read_bytes(), taken=ended_at)
        return interval_stats(self._last, final)

    async def _stop_existing_master(self) -> LoadStats | None:
        api, last = self._api, self._last
        if api is None or last is None:
            return None
        await api.stop()
        stopped_at = monotonic()
        final = await self._final_snapshot(api)
        # The load ended at stopped_at; waiting for the workers' last report is not load time.
        return interval_stats(last, dataclasses.replace(final, taken=stopped_at))

    async def _final_snapshot(self, api: MasterApi) -> Snapshot:
        """The master's numbers once every worker's last report has arrived (bounded wait)."""
        first = await api.snapshot()
        if first.workers == 0:
            return first  # standalone: the numbers are already complete
        deadline = monotonic() + self._final_report_wait
        while monotonic() < deadline:
            await asyncio.sleep(_POLL)
            latest = await api.snapshot()
            if latest.exact and _all_reported_since(first, latest):
                return latest
        return await api.snapshot()

    async def _terminate_all(self) -> None:
        """End every process this driver started; the master first, so it quits its workers."""
        errors: list[str] = []

        async def end(process: LocustProcess) -> None:
            try:
                await process.terminate(self._stop_grace)
            except KunrenError as exc:
                errors.append(str(exc))

        if self._processes:
            master, *workers = self._processes
            await end(master)
            # The workers were just told to quit by their master: give them a moment.
            await asyncio.gather(*(w.wait(_WORKER_QUIT) for w in workers))
            await asyncio.gather(*(end(w) for w in workers))
        if errors:
            raise KunrenError("; ".join(errors))


def _all_reported_since(before: Snapshot, now: Snapshot) -> bool:
    reporters = set(before.worker_reports) | set(now.worker_reports)
    if len(reporters) < before.workers:
        return False
    return all(now.worker_reports.get(w, 0) > before.worker_reports.get(w, 0) for w in reporters)
