"""Local process faults: kill with any signal, freeze and thaw, restart a drill-owned service.

A process target is ``{service: NAME}`` (a service the drill started), ``{pid_file: PATH}`` or
``{pattern: REGEX}`` (matched against the command lines in /proc). kunren never signals
itself or its parents, and a pattern that matches nothing, or more than one process without
``all: true``, is refused rather than guessed at. Pids go into the revert handle with their
start times, so ``kunren revert`` in a new process continues exactly the processes it froze.

A service target means the service's whole process group: a service started through a
wrapper (``[sh, -c, "python svc.py"]``) has the shell at its pid and the server below it, and
freezing only the shell leaves the server answering.
"""

from __future__ import annotations

import os
import re
import signal
from typing import Annotated, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, JsonValue, WithJsonSchema
from pydantic_core import PydanticCustomError

from kunren.errors import GuardrailError, InjectionError, RevertError
from kunren.injectors.base import Handle, Injected, Injector, Planned
from kunren.runtime import procfs
from kunren.runtime.procfs import ProcInfo
from kunren.scenarios.models import ProcessTarget, Target


def parse_signal(value: object) -> int:
    """A signal number from ``KILL``, ``SIGKILL``, ``kill``, ``9`` or ``"9"``."""
    if isinstance(value, bool):
        raise PydanticCustomError(
            "signal", "expected a signal name or number, got {v!r}", {"v": value}
        )
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int):
        if value in signal.valid_signals():
            return value
        raise PydanticCustomError("signal", "no signal number {v}", {"v": value})
    if isinstance(value, str):
        name = value.strip().upper()
        name = name if name.startswith("SIG") else "SIG" + name
        try:
            return int(signal.Signals[name])
        except KeyError:
            pass
    raise PydanticCustomError(
        "signal", "expected a signal name (TERM, KILL, HUP…) or number, got {v!r}", {"v": value}
    )


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


Signal = Annotated[
    int,
    BeforeValidator(parse_signal),
    WithJsonSchema({"type": ["string", "integer"], "examples": ["TERM", "KILL", "HUP", 9]}),
]


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProcessKillParams(_Params):
    signal: Signal = int(signal.SIGTERM)
    all: bool = False  # a pattern may match several processes: signal every one


class ProcessStopParams(_Params):
    all: bool = False


class ProcessRestartParams(_Params):
    pass


PT = TypeVar("PT", bound=_Params, covariant=True)


def _service_group(pid: int) -> list[ProcInfo]:
    """Every live process of the service whose first process is ``pid``: its group when it
    leads one (kunren starts services in their own), else the process alone."""
    leader = procfs.alive(pid)
    if leader is not None and leader.pgid == pid:
        return procfs.group(pid)
    return [leader] if leader is not None else []


def _handle(found: list[ProcInfo]) -> Handle:
    records: list[JsonValue] = [
        {"pid": info.pid, "start": info.start, "command": info.command} for info in found
    ]
    return {"signal": "SIGCONT", "pids": records}


class _ProcessInjector(Injector[PT]):
    target_kinds = ("process",)

    @classmethod
    def check_target(cls, target: Target) -> str | None:
        """A load-time check of the target (called by the scenario loader)."""
        pattern = target.process.pattern if target.process is not None else None
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                return f"process.pattern {pattern!r} is not a valid regular expression: {exc}"
        return None

    @property
    def _spec(self) -> ProcessTarget:
        target = self.request.target
        if target is None or target.process is None:
            raise InjectionError(f"{self.request.kind} needs a process target")
        return target.process

    def _want_all(self) -> bool:
        """Whether a pattern may match several processes (``all: true``)."""
        return False

    def _service_pid(self, name: str) -> int | None:
        service = self.ctx.services.get(name)
        return service.pid if service is not None else None

    def _describe(self, spec: ProcessTarget) -> str:
        if spec.service is not None:
            return f"service {spec.service}"
        if spec.pid_file is not None:
            return f"pid file {spec.pid_file}"
        return f"processes matching {spec.pattern!r}"

    def _find(self) -> list[ProcInfo]:
        """The processes the target names right now; raises when that is not exactly what
        the scenario asked for (none, or several without ``all: true``)."""
        spec = self._spec
        if spec.service is not None:
            pid = self._service_pid(spec.service)
            if pid is None:
                raise InjectionError(f"service {spec.service!r} is not running in this drill")
            found = _service_group(pid)
        elif spec.pid_file is not None:
            found = self._from_pid_file(spec.pid_file)
        else:
            try:
                found = procfs.matching(spec.pattern or "")
            except re.error as exc:
                raise InjectionError(
                    f"pattern {spec.pattern!r} is not a valid regex: {exc}"
                ) from exc
            if len(found) > 1 and not self._want_all():
                listed = ", ".join(info.label for info in found[:5])
                raise InjectionError(
                    f"pattern {spec.pattern!r} matches {len(found)} processes ({listed}); "
                    "narrow the pattern or set all: true"
                )
        if not found:
            raise InjectionError(f"no running process for {self._describe(spec)}")
        protected = procfs.ancestors(os.getpid())
        for info in found:
            if info.pid <= 1 or info.pid in protected:
                raise GuardrailError(
                    f"refusing to signal {info.label}: it is kunren itself or one of its parents"
                )
        return found

    def _from_pid_file(self, pid_file: str) -> list[ProcInfo]:
        path = self.ctx.resolve_path(pid_file)
        try:
            text = path.read_text().strip()
        except OSError as exc:
            raise InjectionError(f"cannot read pid file {path}: {exc.strerror or exc}") from exc
        if not text.isdigit():
            raise InjectionError(f"pid file {path} holds {text[:40]!r}, not a pid")
        info = procfs.alive(int(text))
        if info is None:
            raise InjectionError(f"pid {text} from {path} is not running")
        return [info]

    def _send(self, found: list[ProcInfo], number: int) -> list[str]:
        hit = []
        for info in found:
            try:
                os.kill(info.pid, number)
            except ProcessLookupError:
                continue  # exited on its own between lookup and signal
            except PermissionError as exc:
                raise InjectionError(f"not allowed to signal {info.label}") from exc
            hit.append(info.label)
        if not hit:
            raise InjectionError("every target exited before it could be signalled")
        return hit

    def _plan_find(self) -> tuple[list[ProcInfo], list[str]]:
        """The processes a plan would hit now, and how to show them."""
        # A plan may be made before the drill starts its services (--dry-run): describe
        # what is there now rather than fail; inject() re-checks and refuses for real.
        spec = self._spec
        if spec.service is not None and self._service_pid(spec.service) is None:
            return [], [f"service {spec.service} (the drill starts it; not running yet)"]
        try:
            found = self._find()
        except (InjectionError, GuardrailError) as exc:
            return [], [f"{self._describe(self._spec)}: {exc}"]
        return found, [info.label for info in found]


class ProcessKill(_ProcessInjector[ProcessKillParams]):
    """Send a signal (default TERM) to a local process."""

    summary = "Send a signal (TERM by default, KILL, HUP, any) to a local process."

    def _want_all(self) -> bool:
        return self.params.all

    async def plan(self) -> Planned:
        return Planned(targets=self._plan_find()[1], undo="")

    async def inject(self) -> Injected:
        number = self.params.signal
        hit = self._send(self._find(), number)
        return Injected(targets=hit, revert=None, detail=f"sent {signal_name(number)}")


class ProcessStop(_ProcessInjector[ProcessStopParams]):
    """Freeze a local process with SIGSTOP; revert continues it with SIGCONT."""

    summary = "Freeze a local process with SIGSTOP; reverted by SIGCONT."

    def _want_all(self) -> bool:
        return self.params.all

    async def plan(self) -> Planned:
        # The handle is known before acting, so a crash right after SIGSTOP still leaves
        # the log able to thaw exactly these processes.
        found, targets = self._plan_find()
        return Planned(
            targets=targets,
            undo="send SIGCONT to the frozen processes",
            revert=_handle(found) if found else None,
        )

    async def inject(self) -> Injected:
        found = self._find()
        hit = self._send(found, signal.SIGSTOP)
        return Injected(targets=hit, revert=_handle(found), detail="sent SIGSTOP")

    async def revert(self, handle: Handle) -> str:
        records = handle.get("pids")
        if not isinstance(records, list):
            raise RevertError(f"{self.request.id}: revert handle has no pids: {handle!r}")
        done, gone, failed = [], [], []
        for record in records:
            if not isinstance(record, dict):
                continue
            pid, start = record.get("pid"), record.get("start")
            if not isinstance(pid, int) or not isinstance(start, int):
                continue
            if procfs.alive(pid, start) is None:
                gone.append(f"pid {pid}")
                continue
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                gone.append(f"pid {pid}")
            except PermissionError:
                failed.append(f"pid {pid}")
            else:
                done.append(f"pid {pid}")
        if failed:
            raise RevertError(f"not allowed to send SIGCONT to {', '.join(failed)}")
        parts = []
        if done:
            parts.append(f"sent SIGCONT to {', '.join(done)}")
        if gone:
            parts.append(f"{', '.join(gone)} no longer running")
        return "; ".join(parts) or "nothing to continue"


class ProcessRestart(_ProcessInjector[ProcessRestartParams]):
    """Restart a service the drill started and owns (``process: {service: NAME}``)."""

    summary = "Restart a service the drill started and owns (nothing to undo)."

    @classmethod
    def check_target(cls, target: Target) -> str | None:
        spec = target.process
        if spec is not None and spec.service is None:
            return (
                "process.restart can only restart a service the drill owns "
                "(target process: {service: NAME}); kunren cannot restart a process "
                "it did not start"
            )
        return None

    def _service_name(self) -> str:
        spec = self._spec
        if spec.service is None:
            raise InjectionError(
                f"{self.request.id}: process.restart can only restart a service the drill "
                f"owns (process: {{service: NAME}}), not {self._describe(spec)}"
            )
        return spec.service

    async def plan(self) -> Planned:
        name = self._service_name()
        pid = self._service_pid(name)
        running = f" (pid {pid})" if pid is not None else " (not running now)"
        return Planned(targets=[f"service {name}{running}"], undo="")

    async def inject(self) -> Injected:
        name = self._service_name()
        service = self.ctx.services.get(name)
        if service is None:
            raise InjectionError(f"service {name!r} is not part of this drill")
        old = service.pid
        new = await service.restart()
        before = f"pid {old}" if old is not None else "not running"
        return Injected(targets=[f"service {name}"], revert=None, detail=f"{before} -> pid {new}")
