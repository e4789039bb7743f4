"""ECS fault: stop running tasks of a cluster or one of its services (one by default).

Only tasks that carry the allow tag are candidates; give the service ``propagateTags: SERVICE``
(or tag the task definition) so its tasks carry the tag. The service's scheduler starts
replacements, which is the behaviour the drill exercises; there is nothing to undo.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from kunren.injectors.aws.kind import AwsInjector, AwsParams
from kunren.injectors.aws.selection import ResolvedTargets, Resource, tags_from
from kunren.injectors.base import Injected
from kunren.runtime.aws_session import AwsScope
from kunren.scenarios.models import EcsTarget

DESCRIBE_BATCH = 100  # DescribeTasks takes at most 100 tasks a call


class EcsStopTaskParams(AwsParams):
    reason: str = Field(default="kunren drill", max_length=255)


class EcsStopTask(AwsInjector[EcsStopTaskParams]):
    """Stop running ECS tasks; the service starts new ones."""

    target_kinds = ("aws.ecs",)

    async def resolve(self) -> ResolvedTargets:
        spec = self.spec_as(EcsTarget)
        scope = await self.resolved_scope()
        where = f"cluster {spec.cluster}" + (f" service {spec.service}" if spec.service else "")
        listing: dict[str, Any] = {"cluster": spec.cluster, "desiredStatus": "RUNNING"}
        if spec.service:
            listing["serviceName"] = spec.service
        pages = await self.sessions.pages("ecs", scope, "list_tasks", resource=where, **listing)
        arns = [str(arn) for page in pages for arn in page.get("taskArns", [])]
        candidates: list[Resource] = []
        for start in range(0, len(arns), DESCRIBE_BATCH):
            answer = await self.sessions.call(
                "ecs",
                scope,
                "describe_tasks",
                resource=where,
                cluster=spec.cluster,
                tasks=arns[start : start + DESCRIBE_BATCH],
                include=["TAGS"],
            )
            candidates.extend(
                Resource(
                    id=str(task["taskArn"]),
                    type="ecs:task",
                    tags=tags_from(task.get("tags"), key="key", value="value"),
                    detail=str(task.get("group", "")),
                )
                for task in answer.get("tasks", [])
            )
        return self.pick(
            scope,
            candidates,
            spec.select,
            tag_filter=True,
            default_count=1,
        )

    async def act(self, resolved: ResolvedTargets) -> Injected:
        spec = self.spec_as(EcsTarget)
        reason = self.params.reason
        scope = AwsScope(resolved.profile, resolved.region)
        for arn in resolved.ids:
            await self.sessions.call(
                "ecs",
                scope,
                "stop_task",
                resource=arn,
                cluster=spec.cluster,
                task=arn,
                reason=reason,
            )
        return Injected(targets=resolved.ids, detail=f"stopped tasks ({resolved.rule})")
