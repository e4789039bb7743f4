"""The shape every AWS fault kind shares: resolve, guard, act, and undo from a JSON handle.

Each kind only says how to find its resources (``resolve``, read-only), how to rehearse its
mutating call (``dry_run``, EC2 only) and how to act (``act``). This base runs the guardrails on
a fresh selection right before acting, so a fault that fires twenty minutes into a drill checks
what exists then, not what existed at the start.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from kunren import plugins
from kunren.errors import PluginError, UsageError
from kunren.injectors.aws.guardrails import guard
from kunren.injectors.aws.selection import ResolvedTargets, Resource, pick, safety_of
from kunren.injectors.base import INJECTORS, Injected, Injector, Planned
from kunren.runtime.aws_session import AwsScope, AwsSessions, aws_sessions, scope_for
from kunren.scenarios.models import AwsTarget, Safety, Select, Target

P = TypeVar("P", bound=BaseModel, covariant=True)
T = TypeVar("T", bound=AwsTarget)


class AwsParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AwsInjector(Injector[P]):
    """Base of the AWS fault kinds (extra ``kunren[aws]``).

    Every AWS kind acts on shared infrastructure: the scenario must carry a ``safety``
    section, the runner asks before the drill, and ``preflight`` runs every guardrail before
    the drill starts.
    """

    extra = "aws"
    requires = ("boto3",)
    needs_safety = True
    undo: ClassVar[str] = ""  # in words, for fault.injecting; empty: nothing to undo

    @classmethod
    def real_systems(cls, target: Target | None) -> str | None:
        return "in AWS"

    async def preflight(self) -> None:
        await guard(self)

    @property
    def sessions(self) -> AwsSessions:
        return aws_sessions(self.ctx)

    @property
    def safety(self) -> Safety:
        return safety_of(self.ctx.scenario)

    def spec_as(self, model: type[T]) -> T:
        """The fault's target block (``aws.ec2: {...}``), checked to be of this kind's type."""
        target = self.request.target
        spec = target.spec(target.kind) if target is not None else None
        if not isinstance(spec, model):
            kinds = ", ".join(self.target_kinds)
            raise UsageError(
                f"fault {self.request.id} ({self.request.kind}) needs a target of kind {kinds}"
            )
        return spec

    def scope(self) -> AwsScope:
        target = self.request.target
        spec = target.spec(target.kind) if target is not None and target.is_aws else None
        return scope_for(self.ctx, spec if isinstance(spec, AwsTarget) else None)

    async def resolved_scope(self) -> AwsScope:
        return await self.sessions.resolve(self.scope())

    def pick(
        self,
        scope: AwsScope,
        candidates: Sequence[Resource],
        select: Select | None,
        *,
        tag_filter: bool,
        default_count: int | None = None,
    ) -> ResolvedTargets:
        """This fault's selection among ``candidates``: allow tag, ``select``, seeded choice."""
        return pick(
            fault_id=self.request.id,
            kind=self.request.kind,
            target_name=self.request.target_name,
            profile=scope.profile,
            region=scope.region or "",
            candidates=candidates,
            select=select,
            required_tag=self.safety.require_tag,
            seed=self.ctx.seed,
            tag_filter=tag_filter,
            default_count=default_count,
        )

    @abstractmethod
    async def resolve(self) -> ResolvedTargets:
        """The exact resources this fault would hit; read-only calls only."""

    async def dry_run(self, resolved: ResolvedTargets) -> None:
        """Rehearse the mutating call without effect (only EC2 offers this)."""

    @abstractmethod
    async def act(self, resolved: ResolvedTargets) -> Injected:
        """The mutating calls, on exactly ``resolved``; returns the revert handle."""

    async def plan(self) -> Planned:
        resolved = await self.resolve()
        return Planned(targets=resolved.ids, undo=self.undo)

    async def inject(self) -> Injected:
        resolved = await guard(self)
        if self.ctx.dry_run:
            return Injected(
                targets=resolved.ids, detail=f"dry run, nothing changed: {resolved.rule}"
            )
        return await self.act(resolved)


def is_aws_kind(kind: str) -> bool:
    """Whether ``kind`` names an AWS kind: its class derives from ``AwsInjector`` (asked of the
    class, never guessed from the name)."""
    try:
        return issubclass(plugins.load(INJECTORS, kind), AwsInjector)
    except PluginError:
        return False
