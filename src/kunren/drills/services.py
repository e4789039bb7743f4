"""Local processes the drill starts and owns (``scenario.services``): demo apps, rehearsal stacks.

The conductor starts each service before the drill, waits until its ``ready`` URL answers, and
stops it at the end. Services are started with a parent-death signal so a conductor killed
with SIGKILL does not leave them running; ``kunren revert`` also stops any that survive, using
the pids recorded in ``service.started`` events.
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
from pathlib import Path

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


class ManagedService:
    def __init__(
        self, name: str, spec: Service, base_dir: Path, log_dir: Path | None = None
    ) -> None:
        self.name = name
        self.spec = spec
        self.base_dir = base_dir
        self.log_path = log_dir / f"{name}.log" if log_dir is not None else None
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        if self._process is None or self._process.returncode is not None:
            return None
        return self._process.pid

    @property
    def command(self) -> list[str]:
        command = list(self.spec.command)
        if command and command[0] in ("python", "python3"):
            command[0] = sys.executable  # the interpreter kunren runs in, with its packages
        return command

    async def start(self) -> int:
        cwd = self.base_dir / self.spec.cwd if self.spec.cwd else None
        env = {**os.environ, **self.spec.env}
        output = self._open_log()
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.command,
                cwd=cwd,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                preexec_fn=die_with_parent,
                # its own session: a busy service must not share the conductor's CPU group
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
        await self.wait_ready()
        return self._process.pid

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

    async def wait_ready(self) -> None:
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
            ok, last = await asyncio.to_thread(_answers, self.spec.ready)
            if ok:
                return
            if monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        await self.stop()
        raise KunrenError(
            f"service {self.name} not ready at {self.spec.ready} after "
            f"{self.spec.ready_timeout:g}s ({last})"
        )

    async def stop(self, grace: float = 5.0) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGCONT)  # a frozen (SIGSTOPped) service cannot exit
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    async def restart(self) -> int:
        await self.stop()
        return await self.start()


def _answers(url: str) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return 200 <= response.status < 400, f"status {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"status {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return False, str(getattr(exc, "reason", exc))


def stop_orphan(pid: int, command: list[str]) -> bool:
    """Stop a service left by a crashed conductor, only if the pid still runs that command."""
    running = procfs.alive(pid)
    if running is None or running.command != " ".join(command):
        return False  # gone, or the pid was reused by something else: leave it alone
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGCONT)
        os.kill(pid, signal.SIGTERM)
        return True
    return False
