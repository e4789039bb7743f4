"""The one seam between the conductor and plugin code: any exception becomes a named kunren error.

A plugin is foreign code. Whatever it raises (``ValueError``, ``RuntimeError``, even
``SystemExit``) while the conductor builds it or calls ``setup``, ``plan``, ``inject``,
``revert``, ``close`` or ``check`` comes out of here as a ``PluginFailed`` that names the kind,
the distribution that registered it and its module, so the record says whose code failed and
the drill goes on: a buggy plugin fails its own step, nothing else. A ``KunrenError`` passes
unchanged: the plugin raised it on purpose and its message is already the user's. Modelled on
the scorer seam in ``kunren.scorers.score``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import TypeVar

from kunren import plugins
from kunren.errors import KunrenError

T = TypeVar("T")

_NOUNS = {group.name: group.noun for group in plugins.GROUPS}


class PluginFailed(KunrenError):
    """Plugin code raised something that is not a ``KunrenError``; translated at the seam."""


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


async def call(ref: PluginRef, step: str, action: Callable[[], Awaitable[T]]) -> T:
    """Await plugin code; anything it raises comes out as a ``KunrenError`` naming it."""
    try:
        return await action()
    except asyncio.CancelledError:
        raise  # the conductor's own cancellation, not the plugin's failure
    except (Exception, SystemExit) as exc:  # a plugin is foreign code: translated here
        raise translate(ref, step, exc) from exc


def call_sync(ref: PluginRef, step: str, action: Callable[[], T]) -> T:
    """``call`` for plugin code that is not a coroutine (constructing the plugin)."""
    try:
        return action()
    except (Exception, SystemExit) as exc:
        raise translate(ref, step, exc) from exc
