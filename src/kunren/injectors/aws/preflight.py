"""What the conductor and the CLI ask of the AWS faults before a drill changes anything.

``preflight`` runs every guardrail for every AWS fault of the drill (see
``kunren.injectors.aws.guardrails``) at drill start, so a scenario that would touch an untagged
instance, a wrong account or too many resources is refused before the first fault fires, not
twenty minutes in. ``resolve_targets`` only lists the exact resources each fault would hit
(``kunren plan --resolve``, ``kunren run --dry-run``). A request whose kind is not an AWS kind
(its class does not derive from ``AwsInjector``) is skipped, so callers may pass every fault.
The conductor reaches ``guard`` through the ``Injector.preflight`` hook instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel

from kunren import plugins
from kunren.injectors.aws.guardrails import guard
from kunren.injectors.aws.kind import AwsInjector
from kunren.injectors.aws.selection import ResolvedTargets
from kunren.injectors.base import INJECTORS, FaultRequest
from kunren.injectors.requests import request_for_fault

if TYPE_CHECKING:
    from kunren.runtime.context import DrillContext  # annotations only: no clock, no asyncio


def aws_injector(ctx: DrillContext, request: FaultRequest) -> AwsInjector[BaseModel] | None:
    """The AWS injector for ``request``, or None when its kind is not an AWS kind."""
    cls = plugins.require(INJECTORS, request.kind)
    return cls(ctx, request) if issubclass(cls, AwsInjector) else None


def scenario_requests(ctx: DrillContext) -> list[FaultRequest]:
    """A request for every fault of the scenario (the default for both functions)."""
    return [request_for_fault(ctx, fault) for fault in ctx.scenario.faults]


async def resolve_targets(
    ctx: DrillContext, requests: Sequence[FaultRequest] | None = None
) -> list[ResolvedTargets]:
    """The exact resources each AWS fault would hit now; read-only AWS calls only.

    ``requests`` defaults to every AWS fault of ``ctx.scenario``.
    """
    resolved: list[ResolvedTargets] = []
    for request in scenario_requests(ctx) if requests is None else requests:
        injector = aws_injector(ctx, request)
        if injector is not None:
            resolved.append(await injector.resolve())
    return resolved


async def preflight(
    ctx: DrillContext, requests: Sequence[FaultRequest] | None = None
) -> list[ResolvedTargets]:
    """Every guardrail for every AWS fault, before any mutating call of the drill.

    Raises ``GuardrailError`` (exit 2) at the first refusal; returns the resolved targets when
    all pass. Makes read-only calls, STS GetCallerIdentity and EC2 ``DryRun=True`` calls only.
    ``requests`` defaults to every AWS fault of ``ctx.scenario``.
    """
    resolved: list[ResolvedTargets] = []
    for request in scenario_requests(ctx) if requests is None else requests:
        injector = aws_injector(ctx, request)
        if injector is not None:
            resolved.append(await guard(injector))
    return resolved
