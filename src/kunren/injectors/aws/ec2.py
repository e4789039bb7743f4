"""EC2 instance faults: stop (undone by starting them again), reboot and terminate.

Instances are found with the target's ``filters`` (EC2 DescribeInstances filters, such as
``tag:Role``) or ``ids``; only running instances are candidates. The mutating call is rehearsed
with ``DryRun=True`` first, so missing permissions refuse the fault before anything changes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import JsonValue

from kunren.errors import RevertError
from kunren.injectors.aws.guardrails import ec2_dry_run
from kunren.injectors.aws.kind import AwsInjector, AwsParams, P
from kunren.injectors.aws.selection import ResolvedTargets, Resource, tags_from
from kunren.injectors.base import Handle, Injected
from kunren.plugins import NoParams
from kunren.runtime.aws_session import AwsResponse, AwsScope
from kunren.scenarios.models import Ec2Target

# How long a revert waits for stopping instances to reach "stopped" before starting them.
STOP_WAIT_POLLS = 60
STOP_WAIT_EVERY = 5.0


def _filters(spec: Ec2Target) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = [
        {"Name": name, "Values": [values] if isinstance(values, str) else list(values)}
        for name, values in spec.filters.items()
    ]
    if "instance-state-name" not in spec.filters:
        filters.append({"Name": "instance-state-name", "Values": ["running"]})
    return filters


def _instances(pages: list[AwsResponse]) -> list[AwsResponse]:
    return [
        instance
        for page in pages
        for reservation in page.get("Reservations", [])
        for instance in reservation.get("Instances", [])
    ]


class _Ec2Kind(AwsInjector[P]):
    target_kinds = ("aws.ec2",)
    operation: ClassVar[str]  # the boto3 method of the mutating call

    async def resolve(self) -> ResolvedTargets:
        spec = self.spec_as(Ec2Target)
        scope = await self.resolved_scope()
        kwargs: dict[str, Any] = {"Filters": _filters(spec)}
        if spec.ids:
            kwargs["InstanceIds"] = list(spec.ids)
        pages = await self.sessions.pages(
            "ec2",
            scope,
            "describe_instances",
            resource=f"target {self.request.target_name}",
            **kwargs,
        )
        candidates = [
            Resource(
                id=str(instance["InstanceId"]),
                type="ec2:instance",
                tags=tags_from(instance.get("Tags")),
                detail=str(instance.get("State", {}).get("Name", "")),
            )
            for instance in _instances(pages)
        ]
        return self.pick(
            scope,
            candidates,
            spec.select,
            # Named ids stay as named: an untagged one is refused, never swapped for another.
            tag_filter=not spec.ids,
        )

    def call_args(self) -> dict[str, Any]:
        return {}

    async def dry_run(self, resolved: ResolvedTargets) -> None:
        scope = AwsScope(resolved.profile, resolved.region)
        await ec2_dry_run(
            self.ctx, self.request, scope, self.operation, resolved.ids, **self.call_args()
        )

    async def _act(self, resolved: ResolvedTargets) -> AwsScope:
        scope = AwsScope(resolved.profile, resolved.region)
        await self.sessions.call(
            "ec2",
            scope,
            self.operation,
            resource=", ".join(resolved.ids),
            InstanceIds=resolved.ids,
            **self.call_args(),
        )
        return scope


class Ec2StopParams(AwsParams):
    force: bool = False  # skip the OS shutdown (a hard power-off)


class Ec2Stop(_Ec2Kind[Ec2StopParams]):
    """Stop EC2 instances; reverted by starting them again."""

    operation = "stop_instances"
    undo = "start the stopped instances again"

    def call_args(self) -> dict[str, Any]:
        return {"Force": True} if self.params.force else {}

    async def act(self, resolved: ResolvedTargets) -> Injected:
        scope = await self._act(resolved)
        handle: Handle = {**scope.to_handle(), "instance_ids": list(resolved.ids)}
        return Injected(
            targets=resolved.ids,
            revert=handle,
            detail=f"stopped {len(resolved.ids)} ({resolved.rule})",
        )

    async def revert(self, handle: Handle) -> str:
        scope = AwsScope.from_handle(handle)
        ids = [str(i) for i in _list(handle.get("instance_ids"))]
        if not ids:
            return "nothing to undo"
        states = await self._wait_until_settled(scope, ids)
        startable = [i for i in ids if states.get(i) == "stopped"]
        gone = [i for i in ids if states.get(i) in (None, "shutting-down", "terminated")]
        if startable:
            await self.sessions.call(
                "ec2",
                scope,
                "start_instances",
                resource=", ".join(startable),
                error=RevertError,
                InstanceIds=startable,
            )
        done = f"started {', '.join(startable)}" if startable else "no stopped instance to start"
        return done + (f"; gone meanwhile: {', '.join(gone)}" if gone else "")

    async def _states(self, scope: AwsScope, ids: list[str]) -> dict[str, str]:
        pages = await self.sessions.pages(
            "ec2", scope, "describe_instances", resource=", ".join(ids), InstanceIds=ids
        )
        return {
            str(i["InstanceId"]): str(i.get("State", {}).get("Name", "")) for i in _instances(pages)
        }

    async def _wait_until_settled(self, scope: AwsScope, ids: list[str]) -> dict[str, str]:
        """Instances still stopping cannot be started yet: wait for them, boundedly."""
        states: dict[str, str] = {}
        for _ in range(STOP_WAIT_POLLS):
            states = await self._states(scope, ids)
            if not any(state in ("stopping", "pending") for state in states.values()):
                return states
            # AWS moves in real time whatever the drill's speed: wait on a real clock (imported
            # here: checking a scenario that names an EC2 kind does not load the clock)
            from kunren.runtime.clock import make_clock

            await make_clock("real").sleep(STOP_WAIT_EVERY)
        stuck = [i for i, state in states.items() if state in ("stopping", "pending")]
        raise RevertError(f"instances still stopping, not started: {', '.join(stuck)}")


class Ec2Reboot(_Ec2Kind[NoParams]):
    """Reboot EC2 instances (nothing to undo)."""

    operation = "reboot_instances"

    async def act(self, resolved: ResolvedTargets) -> Injected:
        await self._act(resolved)
        return Injected(
            targets=resolved.ids, detail=f"rebooted {len(resolved.ids)} ({resolved.rule})"
        )


class Ec2Terminate(_Ec2Kind[NoParams]):
    """Terminate EC2 instances (cannot be undone)."""

    operation = "terminate_instances"

    async def act(self, resolved: ResolvedTargets) -> Injected:
        await self._act(resolved)
        return Injected(
            targets=resolved.ids, detail=f"terminated {len(resolved.ids)} ({resolved.rule})"
        )


def _list(value: JsonValue) -> list[JsonValue]:
    return value if isinstance(value, list) else []
