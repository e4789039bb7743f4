"""RDS faults: reboot a database (optionally forcing a Multi-AZ failover) and fail over.

Targets name one DB instance or one DB cluster, and the allow tag is checked on what is named.
``aws.rds.reboot`` on a cluster reboots the cluster's writer instance (Aurora clusters reboot
through their instances); ``aws.rds.failover`` on a cluster calls FailoverDBCluster, and on a
Multi-AZ instance reboots it with ForceFailover. Neither can be undone: the database comes back
by itself, and that recovery is what the drill times.
"""

from __future__ import annotations

from typing import Any

from kunren.errors import InjectionError
from kunren.injectors.aws.kind import AwsInjector, AwsParams, P
from kunren.injectors.aws.selection import ResolvedTargets, Resource, tags_from
from kunren.injectors.base import Injected
from kunren.runtime.aws_session import AwsResponse, AwsScope
from kunren.scenarios.models import RdsTarget


class _RdsKind(AwsInjector[P]):
    target_kinds = ("aws.rds",)

    async def _instance(self, scope: AwsScope, name: str) -> AwsResponse:
        answer = await self.sessions.call(
            "rds",
            scope,
            "describe_db_instances",
            resource=f"DB instance {name}",
            DBInstanceIdentifier=name,
        )
        found: AwsResponse = answer["DBInstances"][0]
        return found

    async def _cluster(self, scope: AwsScope, name: str) -> AwsResponse:
        answer = await self.sessions.call(
            "rds",
            scope,
            "describe_db_clusters",
            resource=f"DB cluster {name}",
            DBClusterIdentifier=name,
        )
        found: AwsResponse = answer["DBClusters"][0]
        return found

    def _resolved(self, scope: AwsScope, resource: Resource) -> ResolvedTargets:
        return self.pick(
            scope,
            [resource],
            None,
            tag_filter=False,
        )

    async def _reboot(self, scope: AwsScope, instance: str, force_failover: bool) -> None:
        extra: dict[str, Any] = {"ForceFailover": True} if force_failover else {}
        await self.sessions.call(
            "rds",
            scope,
            "reboot_db_instance",
            resource=f"DB instance {instance}",
            DBInstanceIdentifier=instance,
            **extra,
        )


def _writer(cluster: AwsResponse) -> str | None:
    for member in cluster.get("DBClusterMembers", []):
        if member.get("IsClusterWriter"):
            return str(member["DBInstanceIdentifier"])
    return None


class RdsRebootParams(AwsParams):
    force_failover: bool = False  # Multi-AZ instances: reboot by failing over to the standby


class RdsReboot(_RdsKind[RdsRebootParams]):
    """Reboot a DB instance, or a DB cluster's writer instance."""

    async def resolve(self) -> ResolvedTargets:
        spec = self.spec_as(RdsTarget)
        scope = await self.resolved_scope()
        if spec.db_instance is not None:
            instance = await self._instance(scope, spec.db_instance)
            resource = Resource(
                id=spec.db_instance,
                type="rds:db",
                tags=tags_from(instance.get("TagList")),
                detail=str(instance.get("DBInstanceStatus", "")),
            )
            return self._resolved(scope, resource)
        name = str(spec.db_cluster)
        cluster = await self._cluster(scope, name)
        writer = _writer(cluster)
        if writer is None:
            raise InjectionError(
                f"fault {self.request.id}: DB cluster {name} has no writer instance"
            )
        resource = Resource(
            id=writer,
            type="rds:db",
            tags=tags_from(cluster.get("TagList")),  # the cluster is what the scenario names
            detail=f"writer of cluster {name}",
        )
        return self._resolved(scope, resource)

    async def act(self, resolved: ResolvedTargets) -> Injected:
        force = self.params.force_failover
        scope = AwsScope(resolved.profile, resolved.region)
        for instance in resolved.ids:
            await self._reboot(scope, instance, force)
        how = " with failover" if force else ""
        return Injected(targets=resolved.ids, detail=f"rebooted{how}")


class RdsFailoverParams(AwsParams):
    target_instance: str | None = None  # clusters: the reader to promote (default: AWS picks)


class RdsFailover(_RdsKind[RdsFailoverParams]):
    """Fail over a DB cluster, or a Multi-AZ DB instance to its standby."""

    async def resolve(self) -> ResolvedTargets:
        spec = self.spec_as(RdsTarget)
        scope = await self.resolved_scope()
        if spec.db_cluster is not None:
            cluster = await self._cluster(scope, spec.db_cluster)
            resource = Resource(
                id=spec.db_cluster,
                type="rds:cluster",
                tags=tags_from(cluster.get("TagList")),
                detail=f"writer {_writer(cluster) or 'unknown'}",
            )
            return self._resolved(scope, resource)
        name = str(spec.db_instance)
        instance = await self._instance(scope, name)
        resource = Resource(
            id=name,
            type="rds:db",
            tags=tags_from(instance.get("TagList")),
            detail="Multi-AZ" if instance.get("MultiAZ") else "single-AZ",
        )
        return self._resolved(scope, resource)

    async def act(self, resolved: ResolvedTargets) -> Injected:
        spec = self.spec_as(RdsTarget)
        scope = AwsScope(resolved.profile, resolved.region)
        name = resolved.ids[0]
        if spec.db_cluster is not None:
            target = self.params.target_instance
            extra: dict[str, Any] = {"TargetDBInstanceIdentifier": target} if target else {}
            answer = await self.sessions.call(
                "rds",
                scope,
                "failover_db_cluster",
                resource=f"DB cluster {name}",
                DBClusterIdentifier=name,
                **extra,
            )
            writer = _writer(answer.get("DBCluster", {}))
            return Injected(targets=[name], detail=f"failed over; writer now {writer or 'pending'}")
        if resolved.resources[0].detail != "Multi-AZ":
            raise InjectionError(
                f"fault {self.request.id}: DB instance {name} is not Multi-AZ: "
                "there is no standby to fail over to"
            )
        await self._reboot(scope, name, force_failover=True)
        return Injected(targets=[name], detail="rebooted with failover to the standby")
