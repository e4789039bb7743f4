"""A third-party distribution whose plugins never return, installed the way pip would.

``install(folder)`` writes ``kunren_hung-0.1.dist-info/`` and the module ``kunren_hung.py``;
with ``folder`` on PYTHONPATH a child ``kunren`` finds its entry points like an installed
package's. Each fault writes a marker file named by its ``path`` parameter when it acts, and
its revert removes it, so a test can see what was undone:

- ``hung.inject``: ``inject`` acts, then awaits forever (a dead endpoint);
- ``hung.blocking``: ``inject`` is a plain ``def`` that acts, then blocks its thread forever;
- ``hung.revert``: injects fine; ``revert`` awaits forever while the file ``jam`` (beside the
  marker) exists, so ``kunren revert`` can retry it once the jam is cleared;
- ``hung.stubborn``: ``inject`` acts, then waits forever and swallows its own cancellation
  (``except asyncio.CancelledError: continue``, a retry loop's bug).
"""

from __future__ import annotations

from pathlib import Path

from kunren.testing import install_distribution

DIST = "kunren-hung"
ORIGIN = "(kunren-hung 0.1, module kunren_hung)"

MODULE = '''
"""Plugins that never return: what a plugin awaiting a dead endpoint looks like."""

import asyncio
import threading
from pathlib import Path

from kunren.injectors.base import Injected, Injector, Planned
from kunren.testing import MarkerParams


class _Marker(Injector[MarkerParams]):
    reversible = True

    @property
    def _path(self) -> Path:
        return self.ctx.resolve_path(self.params.path)

    async def plan(self) -> Planned:
        return Planned([str(self._path)], undo="remove it", revert={"path": str(self._path)})

    async def revert(self, handle: dict[str, object]) -> str:
        Path(str(handle["path"])).unlink(missing_ok=True)
        return "removed"


class InjectHangs(_Marker):
    async def inject(self) -> Injected:
        self._path.write_text("acted")
        await asyncio.Event().wait()
        raise AssertionError("never")


class InjectBlocks(_Marker):
    def inject(self) -> Injected:  # blocking code, written as a plain method
        self._path.write_text("acted")
        threading.Event().wait()
        raise AssertionError("never")


class InjectIgnoresCancellation(_Marker):
    async def inject(self) -> Injected:
        self._path.write_text("acted")
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:  # the bug: it swallows its cancellation
                continue


class RevertHangs(_Marker):
    async def inject(self) -> Injected:
        self._path.write_text("acted")
        return Injected([str(self._path)], revert={"path": str(self._path)})

    async def revert(self, handle: dict[str, object]) -> str:
        path = Path(str(handle["path"]))
        if (path.parent / "jam").exists():
            await asyncio.Event().wait()
        path.unlink(missing_ok=True)
        return "removed"
'''

ENTRY_POINTS = """\
[kunren.injectors]
hung.inject = kunren_hung:InjectHangs
hung.blocking = kunren_hung:InjectBlocks
hung.revert = kunren_hung:RevertHangs
hung.stubborn = kunren_hung:InjectIgnoresCancellation
"""


def install(folder: Path) -> Path:
    """Write the distribution into ``folder``; returns ``folder`` (for PYTHONPATH)."""
    return install_distribution(folder, DIST, "0.1", ENTRY_POINTS, {"kunren_hung": MODULE})
