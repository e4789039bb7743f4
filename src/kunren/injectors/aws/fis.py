"""``aws.fis.experiment``: start an existing AWS FIS experiment template as a drill fault.

For faults at fleet scale AWS FIS does the injecting (its own targets, actions and stop
conditions); kunren starts the experiment on the drill clock, times the people around it, and
stops the experiment on revert. The template must carry the allow tag (``kunren export fis``
puts it there) and live in an allowed region and account; it is not counted against
``max_targets``, since FIS selects its own resources.
"""

from __future__ import annotations

from pydantic import Field

from kunren.errors import RevertError
from kunren.injectors.aws.kind import AwsInjector, AwsParams
from kunren.injectors.aws.selection import ResolvedTargets, Resource
from kunren.injectors.base import Handle, Injected
from kunren.runtime.aws_session import AwsScope, scope_for

FINISHED = frozenset({"completed", "stopped", "failed", "cancelled"})


class FisExperimentParams(AwsParams):
    template_id: str = Field(min_length=1)
    region: str | None = None
    profile: str | None = None


class FisExperiment(AwsInjector[FisExperimentParams]):
    """Start an AWS FIS experiment from a template; reverted by stopping the experiment."""

    target_kinds = ()
    undo = "stop the FIS experiment"

    def scope(self) -> AwsScope:
        params = self.params
        return scope_for(self.ctx, None, region=params.region, profile=params.profile)

    async def resolve(self) -> ResolvedTargets:
        template_id = self.params.template_id
        scope = await self.resolved_scope()
        answer = await self.sessions.call(
            "fis",
            scope,
            "get_experiment_template",
            resource=f"FIS template {template_id}",
            id=template_id,
        )
        template = answer.get("experimentTemplate", {})
        tags = {str(k): str(v) for k, v in (template.get("tags") or {}).items()}
        resource = Resource(
            id=template_id,
            type="fis:experiment-template",
            tags=tags,
            detail=str(template.get("description", "")),
        )
        return ResolvedTargets(
            fault_id=self.request.id,
            kind=self.request.kind,
            target_name=self.request.target_name,
            profile=scope.profile,
            region=scope.region or "",
            resources=(resource,),
            matched=1,
            rule="the named template",
            capped=False,
        )

    async def act(self, resolved: ResolvedTargets) -> Injected:
        scope = AwsScope(resolved.profile, resolved.region)
        template_id = resolved.ids[0]
        answer = await self.sessions.call(
            "fis",
            scope,
            "start_experiment",
            resource=f"FIS template {template_id}",
            experimentTemplateId=template_id,
            tags={"kunren:fault": self.request.id, "kunren:scenario": self.ctx.scenario.id},
        )
        experiment_id = str(answer["experiment"]["id"])
        handle: Handle = {**scope.to_handle(), "experiment_id": experiment_id}
        return Injected(
            targets=[template_id],
            revert=handle,
            detail=f"started FIS experiment {experiment_id} from template {template_id}",
        )

    async def revert(self, handle: Handle) -> str:
        scope = AwsScope.from_handle(handle)
        experiment_id = str(handle.get("experiment_id", ""))
        where = f"FIS experiment {experiment_id}"
        answer = await self.sessions.call(
            "fis", scope, "get_experiment", resource=where, error=RevertError, id=experiment_id
        )
        status = str(answer.get("experiment", {}).get("state", {}).get("status", ""))
        if status in FINISHED:
            return f"{where} had already {status}"
        await self.sessions.call(
            "fis", scope, "stop_experiment", resource=where, error=RevertError, id=experiment_id
        )
        return f"stopped {where}"
