"""Starting and ending the Locust processes a drill owns (a master or standalone, and workers).

Locust always runs in its own process: importing it monkey-patches the importing process with
gevent, which breaks kunren's asyncio loop and boto3. Each process gets its own session (so a
Ctrl-C at the terminal reaches the conductor, which then stops the load and keeps the final
numbers, instead of killing Locust first), its output in a log file in the drill folder, and
is ended with SIGTERM (Locust's clean shutdown), then SIGKILL after a bounded grace. The
kunren_stats extension additionally ends it when the conductor itself dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from kunren.errors import KunrenError

# Read by locustfiles/kunren_stats.py inside the Locust process.
PARENT_PID_ENV = "KUNREN_PARENT_PID"
FINAL_STATS_ENV = "KUNREN_FINAL_STATS_FILE"
REPORT_INTERVAL_ENV = "KUNREN_WORKER_REPORT_INTERVAL"


def locust_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment for a Locust process: ours without LOCUST_* settings, plus ``extra``.

    LOCUST_* variables (LOCUST_HEADLESS, LOCUST_RUN_TIME…) would silently change how the run
    is controlled; the scenario is the one place that says how load runs in a drill.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
    env[PARENT_PID_ENV] = str(os.getpid())
    env.update(extra)
    return env


class LocustProcess:
    """One Locust OS process started by kunren, with its output in ``log_path``."""

    def __init__(
        self, name: str, args: list[str], log_path: Path, env: dict[str, str], cwd: Path
    ) -> None:
        self.name = name
        self.argv = [sys.executable, "-m", "locust", *args]
        self.log_path = log_path
        self._env = env
        self._cwd = cwd
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def returncode(self) -> int | None:
        """The exit code once the process has ended, else None."""
        return self._process.returncode if self._process else None

    async def start(self) -> None:
        try:
            with self.log_path.open("ab") as log:
                self._process = await asyncio.create_subprocess_exec(
                    *self.argv,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log,
                    stderr=asyncio.subprocess.STDOUT,
                    env=self._env,
                    cwd=self._cwd,
                    start_new_session=True,
                )
        except OSError as exc:
            raise KunrenError(f"load: could not start the Locust {self.name}: {exc}") from exc

    def failure(self) -> str:
        """Why the process ended, in one line: its last meaningful log line and the log's path."""
        return f"{last_log_line(self.log_path)} (exit code {self.returncode}; log: {self.log_path})"

    async def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the process to end by itself; True if it has."""
        process = self._process
        if process is None or process.returncode is not None:
            return True
        try:
            await asyncio.wait_for(process.wait(), timeout=timeout)
        except TimeoutError:
            return False
        return True

    async def terminate(self, grace: float) -> None:
        """SIGTERM, wait up to ``grace`` seconds, then SIGKILL; the whole process group."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        self._signal(signal.SIGTERM)
        if not await self.wait(grace):
            self._signal(signal.SIGKILL)
            if not await self.wait(grace):
                raise KunrenError(
                    f"load: the Locust {self.name} (pid {process.pid}) did not end after SIGKILL"
                )
        # Anything it forked itself (Locust's --processes) lives in its session.
        self._signal(signal.SIGKILL)

    def _signal(self, signum: signal.Signals) -> None:
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signum)  # its own session: the group id is its pid


def last_log_line(path: Path) -> str:
    """The last line of a Locust log that says something (skips blank and traceback frames)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no log"
    for line in reversed(lines):
        text = line.strip()
        if text and not text.startswith(("File ", "^", "~")):
            return text
    return "no output"
