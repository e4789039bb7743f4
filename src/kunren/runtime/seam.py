"""The one seam between kunren and plugin code: any exception becomes a named kunren error, and
no call may hold the drill longer than its time limit. The conductor calls plugins only through
it, and so does the tabletop runbook runner (``kunren.page.control.InjectorRunbooks``).

A plugin is foreign code. Whatever it raises (``ValueError``, ``RuntimeError``, even
``SystemExit``) while the conductor builds it or calls ``setup``, ``plan``, ``inject``,
``revert``, ``close`` or ``check`` comes out of here as a ``PluginFailed`` that names the kind,
the distribution that registered it and its module, so the record says whose code failed and
the drill goes on: a buggy plugin fails its own step, nothing else. A ``KunrenError`` passes
unchanged: the plugin raised it on purpose and its message is already the user's. Modelled on
the scorer seam in ``kunren.scorers.score``.

A call that never returns (a plugin awaiting a dead endpoint) would hold the drill: its later
steps, its end and every other fault's revert. So each call has a time limit (``LIMITS``, in
real seconds, or the fault's ``call_timeout``); past it the call is cancelled and comes out as
``PluginTimedOut``, a ``PluginFailed``, so the caller records it like any other failure. A
plugin method written as plain ``def`` (blocking code) runs in a daemon thread of its own, so
the event loop, and the limit, keep running; such a thread cannot be stopped: past the limit it
is abandoned (still running, the process does not wait for it) and the message says so. Code
that blocks inside an ``async def`` (``time.sleep`` there) holds the whole loop and cannot be
timed out by anyone: the plugin guide says to write blocking code as a plain method.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import TypeVar, cast

from kunren import plugins
from kunren.errors import KunrenError

T = TypeVar("T")

_NOUNS = {group.name: group.noun for group in plugins.GROUPS}

LIMITS: dict[str, float] = {
    "inject": 60.0,
    "revert": 60.0,
    "setup": 30.0,
    "plan": 30.0,
    "preflight": 30.0,
}
OTHER_LIMIT = 30.0  # close, and any other step not in LIMITS
UNLIMITED = ("check",)  # the probe runner holds its own limit around each check
CANCEL_GRACE = 1.0  # real seconds a cancelled plugin call may take to clean up and end


class PluginFailed(KunrenError):
    """Plugin code raised something that is not a ``KunrenError``; translated at the seam."""


class PluginTimedOut(PluginFailed):
    """Plugin code did not return within its time limit; it was cancelled (or abandoned)."""


@dataclass(frozen=True)
class PluginRef:
    """Which plugin a call goes to: its group, kind, and where its code comes from."""

    group: str
    kind: str

    def __str__(self) -> str:
        return f"{_NOUNS.get(self.group, self.group)} {self.kind} ({origin(self.group, self.kind)})"


@cache
def origin(group: str, kind: str) -> str:
    """``distribution version, module`` of the entry point registering ``kind``."""
    for point in entry_points(group=group, name=kind):
        dist = point.dist
        where = f"{dist.name} {dist.version}" if dist is not None else "unknown distribution"
        return f"{where}, module {point.module}"
    return "not registered"


def translate(ref: PluginRef, step: str, exc: BaseException) -> KunrenError:
    """The kunren error for what plugin code raised during ``step``."""
    if isinstance(exc, KunrenError):
        return exc
    detail = f": {exc}" if str(exc) else ""
    return PluginFailed(f"{ref}: {step} raised {type(exc).__name__}{detail}")


def limit_for(step: str, own: float | None = None) -> float | None:
    """Real seconds ``step`` may take: the fault's own ``call_timeout``, else the default."""
    if step in UNLIMITED:
        return None
    if own is not None:
        return own
    return LIMITS.get(step, OTHER_LIMIT)


async def call(
    ref: PluginRef,
    step: str,
    method: Callable[..., Awaitable[T]],
    *args: object,
    limit: float | None = None,
) -> T:
    """Call plugin code with ``args``, within ``limit`` real seconds (None: ``limit_for``);
    anything it raises, and a call that does not return in time, comes out as a
    ``KunrenError`` naming it. ``method`` is typed async, as the plugin bases declare; foreign
    code that overrides it with a plain ``def`` is run in a daemon thread instead.

    A call with a limit runs as a task of its own, so a plugin that swallows its cancellation
    (a retry loop catching ``CancelledError``) is left behind at the limit instead of holding
    the drill; one without (a probe check, whose caller holds the limit) is awaited directly."""
    seconds = limit if limit is not None else limit_for(step)
    threaded = not inspect.iscoroutinefunction(method)
    if seconds is None and not threaded:  # the caller holds the limit (a probe check): no task
        value = await _outcome(method, args, threaded)
    else:
        value = await _within(ref, step, seconds, threaded, method, args)
    if isinstance(value, _Raised):
        raise translate(ref, step, value.exc) from value.exc
    return cast(T, value)


async def _within(
    ref: PluginRef,
    step: str,
    seconds: float | None,
    threaded: bool,
    method: Callable[..., object],
    args: tuple[object, ...],
) -> object:
    """The call as a task of its own, given ``seconds``; cancelled (or left) past them."""
    task = asyncio.ensure_future(_outcome(method, args, threaded))
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:  # the conductor's own cancellation, not the plugin's failure:
        await _cancel(task)  # the plugin may clean up first, as it could when awaited directly
        raise
    if not done:
        stopped = await _cancel(task)
        raise PluginTimedOut(_timed_out(ref, step, seconds or 0.0, threaded, stopped))
    return task.result()


@dataclass(frozen=True)
class _Raised:
    """What plugin code raised, carried out of its task (``SystemExit`` raised in a task
    would otherwise stop the event loop itself)."""

    exc: BaseException


async def _outcome(
    method: Callable[..., object], args: tuple[object, ...], threaded: bool
) -> object:
    try:
        if not threaded:
            return await cast(Callable[..., Awaitable[object]], method)(*args)
        result = await _in_daemon_thread(method, *args)
        if inspect.isawaitable(result):  # a plain function handing back a coroutine
            return await result
        return result
    except (Exception, SystemExit) as exc:  # a plugin is foreign code: translated by call
        return _Raised(exc)


async def _cancel(task: asyncio.Future[object]) -> bool:
    """Cancel the plugin's task and give it ``CANCEL_GRACE`` real seconds to end; False when
    it is still running (it ignored the cancellation, or it waits on a thread)."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=CANCEL_GRACE)
    return bool(done)


def _timed_out(ref: PluginRef, step: str, seconds: float, threaded: bool, stopped: bool) -> str:
    what = f"{ref}: {step} did not return within {seconds:g}s"
    if threaded:
        return what + " (its thread cannot be stopped: it was abandoned, still running)"
    if not stopped:
        return what + " (it ignored its cancellation: abandoned, still running)"
    return what + " (cancelled)"


async def _in_daemon_thread(function: Callable[..., T], *args: object) -> T:
    """Run blocking plugin code in a daemon thread: the loop goes on, and an abandoned thread
    never keeps the process from exiting (``asyncio.to_thread`` threads are waited for)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, exc: BaseException | None) -> None:
        if future.done():
            return  # timed out or cancelled: nobody waits for it any more
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(cast(T, result))

    def work() -> None:
        try:
            result, exc = function(*args), None
        except BaseException as raised:  # handed to the loop, translated there
            result, exc = None, raised
        # a closed loop: the drill is over, and the result has no one to go to
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, result, exc)

    name = f"kunren-plugin-{getattr(function, '__qualname__', 'call')}"
    threading.Thread(target=work, name=name, daemon=True).start()
    return await future


def call_sync(ref: PluginRef, step: str, action: Callable[[], T]) -> T:
    """``call`` for plugin code that is not a coroutine (constructing the plugin)."""
    try:
        return action()
    except (Exception, SystemExit) as exc:
        raise translate(ref, step, exc) from exc
