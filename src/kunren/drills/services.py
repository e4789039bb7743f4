"""Local processes the drill starts and owns (``scenario.services``): demo apps, rehearsal stacks.

The conductor starts each service before the drill, waits until its ``ready`` URL answers, and
stops it at the end. Services are started with a parent-death signal so a conductor killed
with SIGKILL does not leave them running; ``kunren revert`` also stops any that survive, using
the pids recorded in ``service.started`` events.

Each service runs in its own process group (its own session), and everything that acts on it
acts on the group: a service is often a wrapper (``[sh, -c, "python svc.py"]``, a shell script,
``npm start``) whose pid is not the server's. Stopping signals the group, waits, escalates to
SIGKILL and then looks in /proc that no member is left, so "stopped" is only said when true.
A service that exits by itself mid-drill is reported (``watch``) and recorded with its code.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kunren.drills.interrupt import unless_set
from kunren.errors import KunrenError
from kunren.runtime import procfs
from kunren.runtime.clock import monotonic
from kunren.scenarios.models import Service

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """preexec_fn: ask Linux to SIGTERM the child when the conductor dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


ExitHook = Callable[[str, int], None]
"""Called with the service name and exit code when a service exits without being stopped."""

KILL_WAIT = 2.0  # seconds for the kernel to finish SIGKILLed processes before we call it failed


class ServiceInterrupted(KunrenError):
    """A stop signal arrived while a service was starting; it was stopped again."""


@dataclass(frozen=True)
class StopResult:
    """What stopping a service's process group did, as checked in /proc afterwards."""

    name: str
    signalled: bool  # anything was running and got signalled
    escalated: bool = False  # SIGTERM was not enough: SIGKILL was sent
    left: tuple[str, ...] = ()  # processes still there after SIGKILL (labels)

    @property
    def ok(self) -> bool:
        return not self.left

    @property
    def detail(self) -> str:
        if self.left:
            return f"STILL RUNNING after SIGKILL: {', '.join(self.left)}"
        if self.escalated:
            return "ignored SIGTERM; killed with SIGKILL"
        return ""


class ManagedService:
    def __init__(
        self, name: str, spec: Service, base_dir: Path, log_dir: Path | None = None
    ) -> None:
        self.name = name
        self.spec = spec
        self.base_dir = base_dir
        self.log_path = log_dir / f"{name}.log" if log_dir is not None else None
        self._process: asyncio.subprocess.Process | None = None
        self._on_exit: ExitHook | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def pid(self) -> int | None:
        if self._process is None or self._process.returncode is not None:
            return None
        return self._process.pid

    @property
    def pgid(self) -> int | None:
        """The service's process group (its first pid), while any of it may still run."""
        return self._process.pid if self._process is not None else None

    @property
    def command(self) -> list[str]:
        command = list(self.spec.command)
        if command and command[0] in ("python", "python3"):
            command[0] = sys.executable  # the interpreter kunren runs in, with its packages
        return command

    async def start(self, abort: asyncio.Event | None = None) -> int:
        """Start the service and wait until ready; ``abort`` set meanwhile (a stop signal)
        stops it again and raises ServiceInterrupted at once, not after the ready timeout."""
        cwd = self.base_dir / self.spec.cwd if self.spec.cwd else None
        env = {**os.environ, **self.spec.env}
        output = self._open_log()
        self._stopping = False
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.command,
                cwd=cwd,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                preexec_fn=die_with_parent,
                # its own session and process group: stopped and frozen as one, wrapper and
                # server alike; and a busy service must not share the conductor's CPU group
                # (Linux autogroup), or the drill clock's steps fire late under load
                start_new_session=True,
            )
        except OSError as exc:
            raise KunrenError(
                f"service {self.name}: cannot start {self.command[0]}: {exc}"
            ) from exc
        finally:
            if output != asyncio.subprocess.DEVNULL:
                os.close(output)
        await self.wait_ready(abort)
        self._arm()
        return self._process.pid

    def watch(self, on_exit: ExitHook) -> None:
        """Call ``on_exit(name, code)`` if the service exits by itself from now on (also
        after a restart); not when kunren stops it."""
        self._on_exit = on_exit
        self._arm()

    def _arm(self) -> None:
        if self._on_exit is None or self._process is None or self._watcher is not None:
            return
        self._watcher = asyncio.create_task(self._watch(self._process, self._on_exit))

    async def _watch(self, process: asyncio.subprocess.Process, on_exit: ExitHook) -> None:
        code = await process.wait()
        if self._watcher is asyncio.current_task():
            self._watcher = None
        # Only this process, and only when nobody stopped it: after a restart the old
        # process's exit is kunren's doing, not news.
        if process is self._process and not self._stopping:
            on_exit(self.name, code)

    def _open_log(self) -> int:
        """The service's output goes to drills/<id>/services/<name>.log (kept for the retro)."""
        if self.log_path is None:
            return asyncio.subprocess.DEVNULL
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def _last_output(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        lines = self.log_path.read_text(errors="replace").strip().splitlines()
        return f": {lines[-1].strip()} (log: {self.log_path})" if lines else ""

    async def wait_ready(self, abort: asyncio.Event | None = None) -> None:
        if not self.spec.ready:
            return
        deadline = monotonic() + self.spec.ready_timeout
        last = "no answer"
        for _ in range(10_000):
            if self._process is not None and self._process.returncode is not None:
                raise KunrenError(
                    f"service {self.name} exited with code {self._process.returncode} "
                    f"before ready{self._last_output()}"
                )
            answered = await unless_set(asyncio.to_thread(_answers, self.spec.ready), abort)
            if answered is None:
                await self.stop()
                raise ServiceInterrupted(f"service {self.name}: stopped while starting")
            ok, last = answered
            if ok:
                return
            if monotonic() > deadline:
                break
            if await unless_set(asyncio.sleep(0.05, True), abort) is None:
                await self.stop()
                raise ServiceInterrupted(f"service {self.name}: stopped while starting")
        await self.stop()
        raise KunrenError(
            f"service {self.name} not ready at {self.spec.ready} after "
            f"{self.spec.ready_timeout:g}s ({last})"
        )

    async def stop(self) -> StopResult:
        """Stop the whole process group: SIGCONT (a frozen service cannot exit) and SIGTERM,
        wait ``stop_timeout``, SIGKILL what is left, and check in /proc that nothing is."""
        self._stopping = True
        process = self._process
        if process is None:
            return StopResult(self.name, signalled=False)
        if process.returncode is None or procfs.group(process.pid):
            result = await stop_group(self.name, process.pid, self.spec.stop_timeout)
        else:
            result = StopResult(self.name, signalled=False)
        with contextlib.suppress(ProcessLookupError):
            await asyncio.wait_for(process.wait(), KILL_WAIT)
        return result

    async def restart(self) -> int:
        await self.stop()
        self._watcher = None  # the old process's watcher ends by itself, silently
        return await self.start()


def _answers(url: str) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return 200 <= response.status < 400, f"status {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"status {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return False, str(getattr(exc, "reason", exc))


def _signal_group(pgid: int, signum: int) -> bool:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    return True


async def _gone(pgid: int, within: float) -> list[procfs.ProcInfo]:
    """Poll /proc until group ``pgid`` has no live member or ``within`` seconds passed;
    the members still there."""
    deadline = monotonic() + within
    members = procfs.group(pgid)
    for _ in range(100_000):
        if not members or monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
        members = procfs.group(pgid)
    return members


async def stop_group(name: str, pgid: int, grace: float) -> StopResult:
    """SIGCONT + SIGTERM the group, wait up to ``grace``, SIGKILL, and verify it is empty."""
    if not (_signal_group(pgid, signal.SIGCONT) and _signal_group(pgid, signal.SIGTERM)):
        return StopResult(name, signalled=False)
    if not await _gone(pgid, grace):
        return StopResult(name, signalled=True)
    _signal_group(pgid, signal.SIGKILL)
    left = await _gone(pgid, KILL_WAIT)
    return StopResult(name, signalled=True, escalated=True, left=tuple(i.label for i in left))


async def stop_orphan(name: str, pid: int, command: list[str], grace: float) -> StopResult:
    """Stop a service left by a crashed conductor: its process group, if it is still that
    service. The leader must still run the recorded command (else the pid was reused: leave
    it alone); a group whose leader is gone is still the service's, since Linux does not
    reuse a pid while it names a live group."""
    leader = procfs.alive(pid)
    if leader is not None and (leader.command != " ".join(command) or leader.pgid != pid):
        return StopResult(name, signalled=False)
    if leader is None and not procfs.group(pid):
        return StopResult(name, signalled=False)
    return await stop_group(name, pid, grace)
