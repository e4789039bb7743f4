"""The finish path: the undo of every part of a drill, run whatever ended the run.

Each part the conductor brings up (a service, the load, the injectors, the probes, the page,
the background tasks) pushes its undo here the moment it is up. Leaving the ``async with``,
by the drill's end, an abort, a stop condition, a signal, a plugin's exception, a record that
cannot be written or an exception in startup, runs every undo once, newest first (an
``AsyncExitStack``). Each undo is guarded: one that raises is kept in ``failures`` and the
others still run, so a load driver that fails to stop never leaves a fault injected or a
service running. One structure instead of a ``finally`` per caller, so no way out is missed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType

from kunren.drills.faults import Reverts
from kunren.errors import KunrenError, RecordWriteError, RevertError
from kunren.record.attach import first_start
from kunren.record.eventlog import EVENTS_FILE
from kunren.record.guarded import GuardedRecorder


class FinishPath:
    """Undo steps pushed as parts come up; all run, newest first, on leaving the block."""

    def __init__(self) -> None:
        self._stack = AsyncExitStack()
        self.failures: list[str] = []  # "what: why" for each undo step that raised

    def push(self, what: str, undo: Callable[[], Awaitable[object]]) -> None:
        """Run ``undo`` when the block is left (after everything pushed later)."""

        async def guarded() -> None:
            try:
                await undo()
            except RecordWriteError:
                pass  # it acted, then could not record it: the loss is reported once, at the end
            except Exception as exc:  # one broken undo must not skip the others
                reason = exc.message if isinstance(exc, KunrenError) else repr(exc)
                self.failures.append(f"{what}: {reason}")

        self._stack.push_async_callback(guarded)

    async def __aenter__(self) -> FinishPath:
        await self._stack.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        return bool(await self._stack.__aexit__(exc_type, exc, tb))


def finish_error(
    revert_failures: list[str],
    guard: GuardedRecorder,
    reverts: Reverts,
    services: list[str],
    drill_dir: Path,
) -> KunrenError | None:
    """What ``kunren run`` must exit with: 4 when a revert failed, 5 when the record failed."""
    lost = guard.lost
    if revert_failures:
        extra = f"; and {lost.message}" if lost is not None else ""
        return RevertError(
            "revert failed for "
            + ", ".join(revert_failures)
            + f": the environment may be left broken; see {drill_dir / EVENTS_FILE}{extra}; "
            f"`kunren revert {drill_dir}` tries again"
        )
    if lost is not None:
        started = first_start(guard.unrecorded) is None  # not among what went unrecorded
        return record_lost_error(
            lost, reverts, services, guard.unrecorded_lines(), drill_dir, started=started
        )
    return None


def record_lost_error(
    lost: RecordWriteError,
    reverts: Reverts,
    services: list[str],
    unrecorded: list[str],
    drill_dir: Path,
    *,
    started: bool = True,
) -> RecordWriteError:
    """What the user must know when the record failed: done from memory, and not recorded.
    ``started``: False when even ``drill.started`` was not written (then nothing ran from it)."""
    lines = [lost.message, "The drill was stopped; faults were reverted from memory."]
    lines.append("  reverted: " + (", ".join(reverts.reverted) or "nothing was active"))
    if reverts.failed:
        lines.append("  REVERT FAILED (check by hand): " + ", ".join(reverts.failed))
    if services:
        lines.append("  stopped services: " + ", ".join(services))
    lines.append(f"  not recorded ({len(unrecorded)} events): " + "; ".join(unrecorded))
    if started:
        lines.append(
            f"{lost.when_writable}, `kunren revert {drill_dir}` records the reverts "
            "and the drill's end (undoing again is harmless); a drill stopped this way cannot "
            "be resumed."
        )
    else:
        lines.append(
            f"The record holds nothing, not even the drill's start: no fault was injected. "
            f"{drill_dir} cannot be resumed; remove it once you have read its service logs."
        )
    return RecordWriteError("\n".join(lines))
