"""Auto Scaling group faults: terminate an instance (the group replaces it) and set capacity.

The scenario names the group, so the allow tag is checked on the group itself; its instances
are its members. ``aws.asg.set-capacity`` is also the typical runbook ("scale web to 4") a
participant runs from the drill page; it records the previous min/max/desired so that the drill
can put the group back the way it was.
"""

from __future__ import annotations

from pydantic import Field, JsonValue

from kunren.errors import InjectionError, KunrenError, RevertError
from kunren.injectors.aws.kind import AwsInjector, AwsParams, P
from kunren.injectors.aws.selection import ResolvedTargets, Resource, tags_from
from kunren.injectors.base import Handle, Injected
from kunren.runtime.aws_session import AwsResponse, AwsScope
from kunren.scenarios.models import AsgTarget


class _AsgKind(AwsInjector[P]):
    target_kinds = ("aws.asg",)

    async def _group(self, scope: AwsScope, name: str) -> AwsResponse:
        answer = await self.sessions.call(
            "autoscaling",
            scope,
            "describe_auto_scaling_groups",
            resource=f"group {name}",
            AutoScalingGroupNames=[name],
        )
        groups = answer.get("AutoScalingGroups", [])
        if not groups:
            raise InjectionError(
                f"fault {self.request.id}: Auto Scaling group {name} not found in {scope.region}"
            )
        group: AwsResponse = groups[0]
        return group

    def _resolved(
        self, scope: AwsScope, candidates: list[Resource], spec: AsgTarget, count: int | None
    ) -> ResolvedTargets:
        return self.pick(
            scope,
            candidates,
            spec.select,
            tag_filter=False,  # the tag that counts is the named group's
            default_count=count,
        )


class AsgTerminateInstanceParams(AwsParams):
    decrement_desired: bool = False  # True: the group shrinks instead of replacing it


class AsgTerminateInstance(_AsgKind[AsgTerminateInstanceParams]):
    """Terminate instances of an Auto Scaling group (one by default); the group replaces them."""

    async def resolve(self) -> ResolvedTargets:
        spec = self.spec_as(AsgTarget)
        scope = await self.resolved_scope()
        group = await self._group(scope, spec.name)
        tags = tags_from(group.get("Tags"))
        candidates = [
            Resource(
                id=str(instance["InstanceId"]),
                type="ec2:instance",
                tags=tags,
                detail=f"in group {spec.name}",
            )
            for instance in group.get("Instances", [])
            if instance.get("LifecycleState") == "InService"
        ]
        return self._resolved(scope, candidates, spec, count=1)

    async def act(self, resolved: ResolvedTargets) -> Injected:
        params = self.params
        scope = AwsScope(resolved.profile, resolved.region)
        for instance_id in resolved.ids:
            await self.sessions.call(
                "autoscaling",
                scope,
                "terminate_instance_in_auto_scaling_group",
                resource=instance_id,
                InstanceId=instance_id,
                ShouldDecrementDesiredCapacity=params.decrement_desired,
            )
        after = "the group shrinks" if params.decrement_desired else "the group replaces it"
        return Injected(targets=resolved.ids, detail=f"terminated ({resolved.rule}); {after}")


class AsgSetCapacityParams(AwsParams):
    desired: int = Field(ge=0)
    min: int | None = Field(default=None, ge=0)  # default: lowered to desired when needed
    max: int | None = Field(default=None, ge=0)  # default: raised to desired when needed


class AsgSetCapacity(_AsgKind[AsgSetCapacityParams]):
    """Set an Auto Scaling group's desired capacity; reverted by restoring min/max/desired."""

    undo = "restore the group's previous min, max and desired capacity"

    async def resolve(self) -> ResolvedTargets:
        spec = self.spec_as(AsgTarget)
        scope = await self.resolved_scope()
        group = await self._group(scope, spec.name)
        sizes = _sizes(group)
        resource = Resource(
            id=spec.name,
            type="autoscaling:group",
            tags=tags_from(group.get("Tags")),
            detail=f"min {sizes['min']}, max {sizes['max']}, desired {sizes['desired']}",
        )
        # ``select`` picks instances, which this kind does not: the group is the one resource.
        return self._resolved(scope, [resource], spec.model_copy(update={"select": None}), None)

    async def act(self, resolved: ResolvedTargets) -> Injected:
        params = self.params
        scope = AwsScope(resolved.profile, resolved.region)
        name = resolved.ids[0]
        before = _sizes(await self._group(scope, name))
        low = params.min if params.min is not None else min(before["min"], params.desired)
        high = params.max if params.max is not None else max(before["max"], params.desired)
        await self._update(scope, name, low, high, params.desired, InjectionError)
        handle: Handle = {**scope.to_handle(), "group": name, **before}
        return Injected(
            targets=[name],
            revert=handle,
            detail=(
                f"{name}: desired {before['desired']} -> {params.desired} (min {low}, max {high})"
            ),
        )

    async def revert(self, handle: Handle) -> str:
        scope = AwsScope.from_handle(handle)
        name = str(handle.get("group", ""))
        low, high, desired = (_int(handle.get(key)) for key in ("min", "max", "desired"))
        await self._update(scope, name, low, high, desired, RevertError)
        return f"{name}: restored min {low}, max {high}, desired {desired}"

    async def _update(
        self,
        scope: AwsScope,
        name: str,
        low: int,
        high: int,
        desired: int,
        error: type[KunrenError],
    ) -> None:
        await self.sessions.call(
            "autoscaling",
            scope,
            "update_auto_scaling_group",
            resource=f"group {name}",
            error=error,
            AutoScalingGroupName=name,
            MinSize=low,
            MaxSize=high,
            DesiredCapacity=desired,
        )


def _sizes(group: AwsResponse) -> dict[str, int]:
    return {
        "min": int(group.get("MinSize", 0)),
        "max": int(group.get("MaxSize", 0)),
        "desired": int(group.get("DesiredCapacity", 0)),
    }


def _int(value: JsonValue) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RevertError(f"revert handle holds {value!r} where a number was expected")
    return int(value)
