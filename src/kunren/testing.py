"""Test helpers shipped for plugin authors and for kunren's own tests.

- ``VirtualClock``: drive a drill with no waiting at all.
- ``MarkerInjector`` (kind ``testing.marker``): a real, reversible fault whose effect is a file
  on disk: injecting writes it, reverting removes it. It survives a crashed conductor exactly
  like a real fault would, so crash, revert and resume can be tested end to end.
- ``run_virtual``: run a scenario to its end on the virtual clock and return its record.
- ``KunrenProcess``: a real ``kunren`` command in a child process, its console lines collected
  as they arrive, so a test can act when a line appears (kill it mid-drill, say) and knows
  which events the command acknowledged. ``free_port`` for services a test starts.
- ``install_distribution``: a plugin distribution written the way pip would install it, to
  put on PYTHONPATH: kunren finds its kinds through their entry points, as a user's would.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from kunren.errors import InjectionError
from kunren.injectors.base import Handle, Injected, Injector, Planned
from kunren.probes.base import Probe, ProbeResult
from kunren.record.events import Event
from kunren.runtime.clock import VirtualClock, monotonic
from kunren.runtime.ports import free_port

__all__ = [
    "ACK",
    "KUNREN",
    "FileProbe",
    "KunrenProcess",
    "MarkerInjector",
    "VirtualClock",
    "free_port",
    "install_distribution",
    "run_virtual",
]

KUNREN = [sys.executable, "-m", "kunren"]
ACK = re.compile(r"^\[[0-9:]+\] #(\d+)\s")  # a console line: the event is on disk


class MarkerParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    fail: bool = False  # make inject() fail, to test fault.failed


class MarkerInjector(Injector[MarkerParams]):
    """A reversible fault that writes a marker file (for tests and rehearsing the tooling)."""

    summary = "test double: writes a marker file; revert removes it"
    test_double = True

    @property
    def _path(self) -> Path:
        return self.ctx.resolve_path(self.params.path)

    async def plan(self) -> Planned:
        path = str(self._path)
        return Planned([path], undo=f"remove {path}", revert={"path": path})

    async def inject(self) -> Injected:
        if self.params.fail:
            raise InjectionError(f"{self.request.id}: told to fail")
        self._path.write_text(f"{self.request.id}\n", encoding="utf-8")
        return Injected([str(self._path)], revert={"path": str(self._path)})

    async def revert(self, handle: Handle) -> str:
        path = Path(str(handle["path"]))
        existed = path.exists()
        path.unlink(missing_ok=True)
        return f"removed {path}" if existed else f"{path} was already gone"


def install_distribution(
    folder: Path, name: str, version: str, entry_points: str, modules: Mapping[str, str]
) -> Path:
    """Write distribution ``name`` into ``folder`` as pip would install it: its
    ``NAME-VERSION.dist-info`` (METADATA, ``entry_points`` as ``entry_points.txt``) and each
    module's source; returns ``folder``, for PYTHONPATH or ``sys.path``."""
    info = folder / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    (info / "METADATA").write_text(metadata, encoding="utf-8")
    (info / "entry_points.txt").write_text(entry_points, encoding="utf-8")
    for module, source in modules.items():
        (folder / f"{module}.py").write_text(source, encoding="utf-8")
    return folder


def run_virtual(scenario: Path, drills_root: Path) -> tuple[Path, list[Event]]:
    """Run ``scenario`` on the virtual clock; returns its drill folder and record."""
    from kunren.drills.runner import RunSettings, start_drill
    from kunren.scenarios.loader import load_scenario

    loaded = load_scenario(scenario)
    settings = RunSettings(drills_root=drills_root, clock_kind="virtual")
    log, _ = asyncio.run(start_drill(loaded, settings))
    return log.drill_dir, log.read()


class FileProbeParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    ok_when: str = "missing"  # "missing" or "exists"


class FileProbe(Probe[FileProbeParams]):
    """A probe that looks at a file: pairs with ``testing.marker`` to test stop conditions."""

    summary = "test double: ok while a file is missing (or exists)"
    test_double = True

    async def check(self) -> ProbeResult:
        params = self.params
        exists = self.ctx.resolve_path(params.path).exists()
        ok = exists if params.ok_when == "exists" else not exists
        return ProbeResult(ok, f"{params.path} {'exists' if exists else 'is missing'}")


def said(line: str) -> str:
    """A console line's own words, without the "(next: …)" hint a plain console adds."""
    from kunren.cli.live import NEXT_HINT  # not when this module is loaded as a test plugin

    return line.split(NEXT_HINT, 1)[0]


class KunrenProcess:
    """A running ``kunren`` command whose output lines are collected as they arrive."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [*KUNREN, *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, condition: Callable[[list[str]], bool], timeout: float = 30.0) -> None:
        """Poll the lines until ``condition`` holds; AssertionError with the output if not."""
        deadline = monotonic() + timeout
        while monotonic() < deadline:
            if condition(list(self.lines)):
                return
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            threading.Event().wait(0.01)
        if not condition(list(self.lines)):
            raise AssertionError("condition not met; output:\n" + "\n".join(self.lines))

    def wait_for_line(self, text: str, timeout: float = 30.0) -> None:
        """Until a console line says ``text`` in its own words, not in its "(next: …)" hint:
        the hint names a later step, and a test that stops the drill "after" that step must
        not stop it as soon as the step is announced."""
        self.wait_for(lambda lines: any(text in said(line) for line in lines), timeout)

    def acks(self) -> dict[int, str]:
        """The console lines of acknowledged events, by seq, in the order they came."""
        return {int(m.group(1)): text for text in list(self.lines) if (m := ACK.match(text))}

    def acknowledged(self) -> list[int]:
        return list(self.acks())

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.proc.send_signal(sig)

    def finish(self, timeout: float = 60.0) -> int:
        """Wait for the command to end (killing it after ``timeout``); its exit code."""
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._reader.join(5)
