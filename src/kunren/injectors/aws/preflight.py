"""What the conductor and the CLI ask of the AWS faults before a drill changes anything.

``preflight`` runs every guardrail for every AWS fault of the drill (see
``kunren.injectors.aws.guardrails``) at drill start, so a scenario that would touch an untagged
instance, a wrong account or too many resources is refused before the first fault fires, not
twenty minutes in. ``resolve_targets`` only lists the exact resources each fault would hit
(``kunren plan --resolve``, ``kunren run --dry-run``). Requests of other kinds are skipped, so
callers may pass every fault of the scenario.
"""

from __future__ import annotations

from collections.abc import Sequence

from kunren import plugins
from kunren.injectors.aws.guardrails import guard
from kunren.injectors.aws.kind import AwsInjector
from kunren.injectors.aws.selection import ResolvedTargets
from kunren.injectors.base import FaultRequest
from kunren.injectors.requests import request_for_fault
from kunren.runtime.context import DrillContext


def aws_injector(ctx: DrillContext, request: FaultRequest) -> AwsInjector | None:
    """The AWS injector for ``request``, or None when its kind is not an AWS kind."""
    if not request.kind.startswith("aws."):
        return None
    cls = plugins.load(plugins.INJECTORS, request.kind)
    if not (isinstance(cls, type) and issubclass(cls, AwsInjector)):
        return None
    cls.ensure_installed(request.kind)
    return cls(ctx, request)


def scenario_requests(ctx: DrillContext) -> list[FaultRequest]:
    """A request for every AWS fault of the scenario (the default for both functions)."""
    scenario = ctx.scenario
    return [request_for_fault(scenario, f) for f in scenario.faults if f.kind.startswith("aws.")]


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
