"""The safety rules every AWS fault passes before its first mutating call.

A drill must never become the outage. Before anything is changed, each AWS fault is checked
against the scenario's ``safety`` section, in this order, and the first rule broken raises
``GuardrailError`` (exit 2) naming the fault, the rule and the resource; nothing has been
changed at that point:

1. the scenario has a ``safety`` section at all;
2. the region is in ``allowed_regions`` (an empty list allows none);
3. the account of the credentials (STS GetCallerIdentity) is in ``allowed_accounts``
   (an empty list allows none);
4. every chosen resource carries the ``require_tag`` tags;
5. the selection is at most ``max_targets`` resources: kunren refuses rather than truncating
   silently, so the scenario author decides what to cut (``select: {count: N}``);
6. with ``dry_run_preflight`` (default on), the mutating EC2 call is made with ``DryRun=True``:
   ``DryRunOperation`` passes, ``UnauthorizedOperation`` (or any other answer) refuses.

The conductor runs all of them for every AWS fault at drill start (``preflight``); each injector
runs them again on its own fresh selection right before it acts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from kunren.errors import GuardrailError, InjectionError, KunrenError
from kunren.injectors.aws.selection import ResolvedTargets, has_tags, tag_text
from kunren.injectors.base import FaultRequest
from kunren.runtime.aws_errors import DENIED_CODES, client_error_code, describe_failure
from kunren.runtime.aws_session import AwsScope, aws_sessions
from kunren.scenarios.models import Safety

if TYPE_CHECKING:
    from kunren.runtime.context import DrillContext  # annotations only: no clock, no asyncio


class Guarded(Protocol):
    """What the guardrails need from an AWS fault kind."""

    ctx: DrillContext
    request: FaultRequest

    async def resolved_scope(self) -> AwsScope: ...

    async def resolve(self) -> ResolvedTargets: ...

    async def dry_run(self, resolved: ResolvedTargets) -> None: ...


def _who(request: FaultRequest) -> str:
    return f"fault {request.id} ({request.kind})"


def require_safety(ctx: DrillContext, request: FaultRequest) -> Safety:
    if ctx.scenario.safety is None:
        raise GuardrailError(
            f"{_who(request)}: refused: the scenario has no safety section; add one with "
            "require_tag, max_targets, allowed_regions and allowed_accounts"
        )
    return ctx.scenario.safety


def check_region(safety: Safety, region: str, request: FaultRequest) -> None:
    if region not in safety.allowed_regions:
        allowed = ", ".join(safety.allowed_regions) or "none (the list is empty)"
        raise GuardrailError(
            f"{_who(request)}: refused: region {region} is not in safety.allowed_regions "
            f"(allowed: {allowed})"
        )


async def check_account(
    ctx: DrillContext, safety: Safety, scope: AwsScope, request: FaultRequest
) -> str:
    account = await aws_sessions(ctx).account(scope)
    if account not in safety.allowed_accounts:
        allowed = ", ".join(safety.allowed_accounts) or "none (the list is empty)"
        raise GuardrailError(
            f"{_who(request)}: refused: the credentials belong to account {account}, which is "
            f"not in safety.allowed_accounts (allowed: {allowed})"
        )
    return account


def check_selection(safety: Safety, resolved: ResolvedTargets, request: FaultRequest) -> None:
    """Something to act on, every chosen resource tagged, and no more than ``max_targets``."""
    required = tag_text(safety.require_tag)
    if not resolved.resources:
        if resolved.untagged:
            raise GuardrailError(
                f"{_who(request)}: refused: target {resolved.target_name} matched "
                f"{resolved.matched} resources in {resolved.region}, none tagged {required}"
            )
        raise InjectionError(
            f"{_who(request)}: target {resolved.target_name} matched nothing in {resolved.region}"
        )
    untagged = [r.id for r in resolved.resources if not has_tags(r.tags, safety.require_tag)]
    if untagged:
        raise GuardrailError(
            f"{_who(request)}: refused: {', '.join(untagged)} in {resolved.region} "
            f"lacks the allow tag {required} (safety.require_tag)"
        )
    if resolved.capped and len(resolved.resources) > safety.max_targets:
        raise GuardrailError(
            f"{_who(request)}: refused: {len(resolved.resources)} resources chosen "
            f"({', '.join(resolved.ids)}), more than safety.max_targets={safety.max_targets}; "
            "narrow the target or give select: {count: N}"
        )


async def guard(kind: Guarded) -> ResolvedTargets:
    """Every guardrail for one fault, in order; returns the exact resources it may act on."""
    ctx, request = kind.ctx, kind.request
    safety = require_safety(ctx, request)
    scope = await kind.resolved_scope()
    check_region(safety, scope.region or "", request)
    await check_account(ctx, safety, scope, request)
    resolved = await kind.resolve()
    check_selection(safety, resolved, request)
    if safety.dry_run_preflight:
        await kind.dry_run(resolved)
    return resolved


class _DryRunAnswer(KunrenError):
    """Carries botocore's answer to a DryRun call out of the translation seam."""


async def ec2_dry_run(
    ctx: DrillContext,
    request: FaultRequest,
    scope: AwsScope,
    operation: str,
    instance_ids: list[str],
    **kwargs: Any,
) -> None:
    """Make the mutating EC2 call with ``DryRun=True``; only ``DryRunOperation`` passes."""
    ids = ", ".join(instance_ids)
    try:
        await aws_sessions(ctx).call(
            "ec2",
            scope,
            operation,
            resource=ids,
            error=_DryRunAnswer,
            InstanceIds=instance_ids,
            DryRun=True,
            **kwargs,
        )
    except _DryRunAnswer as answer:
        cause = answer.__cause__ or answer
        code = client_error_code(cause)
        if code == "DryRunOperation":
            return
        api = "".join(part.capitalize() for part in operation.split("_"))
        why = describe_failure(cause)
        if code in DENIED_CODES:
            raise GuardrailError(
                f"{_who(request)}: refused: the EC2 DryRun of {api} on {ids} ({scope.region}) "
                f"was denied, the credentials may not do this: {why}"
            ) from cause
        raise GuardrailError(
            f"{_who(request)}: refused: the EC2 DryRun of {api} on {ids} ({scope.region}) "
            f"did not pass: {why}"
        ) from cause
    raise GuardrailError(
        f"{_who(request)}: refused: the EC2 DryRun of {operation} on {ids} did not answer "
        "DryRunOperation; the endpoint may ignore DryRun"
    )
