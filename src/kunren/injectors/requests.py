"""The requests a scenario makes of injectors: one ``FaultRequest`` per fault or runbook.

Both the conductor and read-only tools (the AWS preflight, ``kunren plan --resolve``, the FIS
export) build requests for a drill; they live beside ``FaultRequest`` so that nothing below
the conductor has to import it. A request carries the parameters the scenario loader already
validated (``ctx.params``); only a scenario loaded without plugin checks has them built here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kunren.injectors.base import INJECTORS, FaultRequest
from kunren.scenarios.models import Fault, RunbookSpec
from kunren.scenarios.params import Section

if TYPE_CHECKING:
    from kunren.runtime.context import DrillContext  # annotations only: no clock, no asyncio

RUNBOOK_PREFIX = "runbook:"


def _request(
    ctx: DrillContext,
    section: Section,
    key: str,
    spec: Fault | RunbookSpec,
    duration: float | None = None,
) -> FaultRequest:
    return FaultRequest(
        id=key,
        kind=spec.kind,
        target_name=spec.target,
        target=ctx.target(spec.target),
        params=ctx.params.of(section, spec.id, INJECTORS, spec.kind, spec.params),
        duration=duration,
    )


def request_for_fault(ctx: DrillContext, fault: Fault) -> FaultRequest:
    return _request(ctx, "faults", fault.id, fault, fault.for_)


def request_for_runbook(ctx: DrillContext, runbook: RunbookSpec) -> FaultRequest:
    return _request(ctx, "runbooks", RUNBOOK_PREFIX + runbook.id, runbook)


def request_for_key(ctx: DrillContext, key: str) -> FaultRequest | None:
    if key.startswith(RUNBOOK_PREFIX):
        runbook = ctx.scenario.runbook(key.removeprefix(RUNBOOK_PREFIX))
        return request_for_runbook(ctx, runbook) if runbook else None
    fault = ctx.scenario.fault(key)
    return request_for_fault(ctx, fault) if fault else None
