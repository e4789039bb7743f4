"""A third-party distribution with buggy plugins, installed the way pip would: a ``.dist-info``.

Used by the crash campaign's buggy-plugin trials and by ``tests/drills`` (the plugin seam).

``install(folder)`` writes ``kunren_buggy-0.1.dist-info/`` (METADATA, entry_points.txt) and the
module ``kunren_buggy.py`` into ``folder``; with ``folder`` on PYTHONPATH (a child ``kunren``)
or on ``sys.path`` (this process, after ``activate``), ``importlib.metadata`` finds its entry
points exactly like those of an installed package.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kunren import plugins
from kunren.testing import install_distribution

DIST = "kunren-buggy"

MODULE = '''
"""Plugins with the bugs third-party code has: they raise what kunren never raises."""

import asyncio
from pathlib import Path

from kunren.injectors.base import Injected, Injector, Planned
from kunren.probes.base import Probe, ProbeResult


class ValueErrorFault(Injector):
    reversible = True

    async def inject(self) -> Injected:
        raise ValueError("the plugin has a bug")


class SetupBugFault(Injector):
    reversible = True

    async def setup(self) -> None:
        raise KeyError("setup")

    async def inject(self) -> Injected:
        return Injected(["never"], revert={"never": True})


class RevertBugFault(Injector):
    """Injects fine; its revert raises, and so does its close."""

    reversible = True

    async def inject(self) -> Injected:
        return Injected(["thing"], revert={"thing": 1})

    async def revert(self, handle: dict[str, object]) -> str:
        raise ZeroDivisionError("revert bug")

    async def close(self) -> None:
        raise OSError("close bug")


class HangingFault(Injector):
    """Acts (writes a marker in the drill folder), then never returns: cancelled mid-inject."""

    reversible = True

    @property
    def _path(self) -> Path:
        return Path(self.ctx.drill_dir or ".") / "hanging.marker"

    async def plan(self) -> Planned:
        return Planned([str(self._path)], undo="remove it", revert={"path": str(self._path)})

    async def inject(self) -> Injected:
        self._path.write_text("acted")
        await asyncio.Event().wait()
        raise AssertionError("never")

    async def revert(self, handle: dict[str, object]) -> str:
        Path(str(handle["path"])).unlink(missing_ok=True)
        return "removed"


class RuntimeErrorProbe(Probe):
    async def check(self) -> ProbeResult:
        raise RuntimeError("probe exploded")
'''

BROKEN_MODULE = 'raise ValueError("broken at import")\n'

ENTRY_POINTS = """\
[kunren.injectors]
buggy.brokenimport = kunren_buggy_broken:Anything
buggy.valueerror = kunren_buggy:ValueErrorFault
buggy.setupbug = kunren_buggy:SetupBugFault
buggy.revertbug = kunren_buggy:RevertBugFault
buggy.hanging = kunren_buggy:HangingFault

[kunren.probes]
buggy.runtimeerror = kunren_buggy:RuntimeErrorProbe
"""


def install(folder: Path) -> Path:
    """Write the distribution into ``folder``; returns ``folder`` (for PYTHONPATH)."""
    modules = {"kunren_buggy": MODULE, "kunren_buggy_broken": BROKEN_MODULE}
    return install_distribution(folder, DIST, "0.1", ENTRY_POINTS, modules)


def _forget() -> None:
    plugins.forget()
    from kunren.runtime import seam

    seam.origin.cache_clear()
    importlib.invalidate_caches()
    sys.modules.pop("kunren_buggy", None)


@contextmanager
def activate(folder: Path) -> Iterator[None]:
    """The distribution installed for this process, for as long as the block runs."""
    install(folder)
    sys.path.insert(0, str(folder))
    _forget()
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        _forget()
