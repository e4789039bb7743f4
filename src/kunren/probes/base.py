"""The probe interface: one check of the system, run by the conductor every ``every`` seconds.

The conductor logs only state changes (``probe.failed`` / ``probe.recovered``); the first
failure of the drill marks "impact started".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from pydantic import BaseModel

from kunren.plugins import Plugin
from kunren.runtime.context import DrillContext
from kunren.scenarios.models import ProbeSpec


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str = ""


class Probe(Plugin, ABC):
    """Base of probe kinds (entry-point group ``kunren.probes``)."""

    def __init__(self, ctx: DrillContext, spec: ProbeSpec, params: BaseModel) -> None:
        self.ctx = ctx
        self.spec = spec
        self.params = params

    @abstractmethod
    async def check(self) -> ProbeResult:
        """One check; never raises for a failing system, only returns ok=False."""

    async def close(self) -> None:
        """Release what the probe holds."""
