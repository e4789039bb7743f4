"""The probe interface: one check of the system, run by the conductor every ``every`` seconds.

The conductor logs only state changes (``probe.failed`` / ``probe.recovered``); the first
failure of the drill marks "impact started".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar, cast

from pydantic import BaseModel

from kunren import plugins
from kunren.scenarios.models import ProbeSpec

if TYPE_CHECKING:
    from kunren.runtime.context import DrillContext  # annotations only: no clock, no asyncio

P = TypeVar("P", bound=BaseModel, covariant=True)


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str = ""


class Probe(plugins.Plugin, ABC, Generic[P]):
    """Base of probe kinds (entry-point group ``kunren.probes``).

    ``class MyProbe(Probe[MyParams])``: ``self.params`` is a ``MyParams``, validated when the
    scenario loaded.
    """

    def __init__(self, ctx: DrillContext, spec: ProbeSpec, params: BaseModel) -> None:
        self.ctx = ctx
        self.spec = spec
        self.params: P = cast(P, self.own_params(params))

    @abstractmethod
    async def check(self) -> ProbeResult:
        """One check; never raises for a failing system, only returns ok=False."""

    async def close(self) -> None:
        """Release what the probe holds."""


AnyProbe = Probe[BaseModel]
"""A probe of any kind (its parameters unknown to the caller)."""

# type-abstract: see kunren.injectors.base.INJECTORS
PROBES: plugins.Group[AnyProbe] = plugins.PROBES.of(Probe)  # type: ignore[type-abstract]
"""The ``kunren.probes`` group, loading ``type[Probe]``."""
