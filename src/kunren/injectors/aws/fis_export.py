"""``kunren export fis``: a scenario's AWS faults as an AWS FIS experiment template.

For fleet scale the faults can run inside AWS FIS instead of kunren's own injectors. The export
keeps the scenario's intent: each fault becomes an FIS action with its own target, its drill
time becomes an ``aws:fis:wait`` before it, its ``for:`` becomes the FIS duration where FIS has
one, CloudWatch-alarm stop conditions become FIS stop conditions, and the safety section carries
over (the allow tag in every tag-based target, selection counts capped by ``max_targets``, the
template itself tagged so ``aws.fis.experiment`` accepts it). What FIS cannot express is listed
in ``notes`` rather than silently dropped. The result is checked against botocore's own FIS
service model (``CreateExperimentTemplateRequest``) before anyone sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import JsonValue

from kunren.errors import GuardrailError, UsageError
from kunren.injectors.aws.fis_model import validate_request
from kunren.injectors.aws.kind import is_aws_kind
from kunren.injectors.aws.selection import safety_of
from kunren.scenarios.models import (
    AsgTarget,
    Ec2Target,
    EcsTarget,
    Fault,
    RdsTarget,
    Safety,
    Scenario,
    Select,
)

Json = dict[str, JsonValue]

MAX_WAIT = 12 * 3600  # aws:fis:wait takes at most PT12H
MAX_ARNS = 5  # resourceArns holds at most five ARNs

# EC2 DescribeInstances filter names and the FIS filter paths that mean the same.
EC2_FILTER_PATHS: dict[str, str] = {
    "instance-state-name": "State.Name",
    "availability-zone": "Placement.AvailabilityZone",
    "instance-type": "InstanceType",
    "vpc-id": "VpcId",
    "subnet-id": "SubnetId",
    "image-id": "ImageId",
}

EC2_ACTIONS = {
    "aws.ec2.stop": "aws:ec2:stop-instances",
    "aws.ec2.reboot": "aws:ec2:reboot-instances",
    "aws.ec2.terminate": "aws:ec2:terminate-instances",
}


@dataclass
class FisExport:
    """The template (``aws fis create-experiment-template --cli-input-json``) and notes."""

    template: Json
    notes: list[str] = field(default_factory=list)
    exported: list[str] = field(default_factory=list)  # fault ids that became actions


def iso_duration(seconds: float) -> str:
    """Seconds as an ISO 8601 duration (``PT1H5M30S``), the form FIS parameters take."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    parts += f"{secs}S" if secs or not parts else ""
    return f"PT{parts}"


@dataclass
class _Builder:
    scenario: Scenario
    safety: Safety
    account: str | None
    region: str
    targets: Json = field(default_factory=dict)
    actions: Json = field(default_factory=dict)
    out: FisExport = field(default_factory=lambda: FisExport(template={}))

    def need_account(self, why: str) -> str:
        if self.account is None:
            raise UsageError(
                f"{why} needs the AWS account id: give --account, or list exactly one account "
                "in safety.allowed_accounts"
            )
        return self.account

    def selection_mode(self, fault: Fault, select: Select | None, named: int | None) -> str:
        cap = self.safety.max_targets
        if select is not None and select.count is not None:
            if select.count > cap:
                raise GuardrailError(
                    f"fault {fault.id}: select count {select.count} exceeds "
                    f"safety.max_targets={cap}; nothing was exported"
                )
            return f"COUNT({select.count})"
        if select is not None and select.percent is not None:
            self.out.notes.append(
                f"{fault.id}: PERCENT({select.percent:g}) is not capped by max_targets in FIS"
            )
            return f"PERCENT({select.percent:g})"
        if named is not None:
            if named > cap:
                raise GuardrailError(
                    f"fault {fault.id}: {named} named resources exceed "
                    f"safety.max_targets={cap}; nothing was exported"
                )
            return "ALL"
        self.out.notes.append(f"{fault.id}: no select given; FIS picks COUNT({cap}), max_targets")
        return f"COUNT({cap})"

    def ec2_target(self, fault: Fault, spec: Ec2Target) -> Json:
        filters: list[JsonValue] = []
        tags: dict[str, JsonValue] = {}
        for name, values in spec.filters.items():
            listed: list[JsonValue] = [values] if isinstance(values, str) else list(values)
            if name.startswith("tag:"):
                if len(listed) != 1:
                    raise UsageError(f"fault {fault.id}: FIS resourceTags take one value per tag")
                tags[name.removeprefix("tag:")] = listed[0]
            elif name in EC2_FILTER_PATHS:
                filters.append({"path": EC2_FILTER_PATHS[name], "values": listed})
            else:
                known = ", ".join(sorted(EC2_FILTER_PATHS))
                raise UsageError(
                    f"fault {fault.id}: EC2 filter {name!r} has no FIS equivalent "
                    f"(tag:KEY or one of {known})"
                )
        if "instance-state-name" not in spec.filters:
            filters.append({"path": "State.Name", "values": ["running"]})
        target: Json = {"resourceType": "aws:ec2:instance", "filters": filters}
        if spec.ids:
            if len(spec.ids) > MAX_ARNS:
                raise UsageError(f"fault {fault.id}: FIS targets name at most {MAX_ARNS} ids")
            account = self.need_account(f"fault {fault.id} (instance ids)")
            target["resourceArns"] = [
                f"arn:aws:ec2:{self.region}:{account}:instance/{i}" for i in spec.ids
            ]
            self.out.notes.append(
                f"{fault.id}: FIS acts on the named instances; the allow tag is checked only "
                "when kunren itself runs the fault"
            )
        else:
            target["resourceTags"] = {**tags, **self.safety.require_tag}
        target["selectionMode"] = self.selection_mode(
            fault, spec.select, len(spec.ids) if spec.ids else None
        )
        return target

    def rds_arn(self, fault: Fault, kind: str, name: str) -> list[JsonValue]:
        account = self.need_account(f"fault {fault.id} (RDS)")
        return [f"arn:aws:rds:{self.region}:{account}:{kind}:{name}"]

    def add(self, fault: Fault, action_id: str, key: str, target: Json, params: Json) -> None:
        name = fault.id[:56]
        action: Json = {"actionId": action_id, "targets": {key: name}}
        if fault.description:
            action["description"] = fault.description[:512]
        if params:
            action["parameters"] = params
        if fault.at > 0:
            if fault.at > MAX_WAIT:
                raise UsageError(f"fault {fault.id}: FIS waits at most 12h before an action")
            wait = f"{name}-wait"
            self.actions[wait] = {
                "actionId": "aws:fis:wait",
                "description": f"drill time before {fault.id}",
                "parameters": {"duration": iso_duration(fault.at)},
            }
            action["startAfter"] = [wait]
        self.targets[name] = target
        self.actions[name] = action
        self.out.exported.append(fault.id)

    def fault(self, fault: Fault) -> None:
        target = self.scenario.targets.get(fault.target or "")
        spec = target.spec(target.kind) if target is not None else None
        if fault.kind in EC2_ACTIONS and isinstance(spec, Ec2Target):
            params: Json = {}
            if fault.kind == "aws.ec2.stop" and fault.for_:
                params["startInstancesAfterDuration"] = iso_duration(fault.for_)
            self.add(
                fault, EC2_ACTIONS[fault.kind], "Instances", self.ec2_target(fault, spec), params
            )
        elif fault.kind == "aws.asg.terminate-instance" and isinstance(spec, AsgTarget):
            target_json: Json = {
                "resourceType": "aws:ec2:instance",
                "resourceTags": {"aws:autoscaling:groupName": spec.name},
                "filters": [{"path": "State.Name", "values": ["running"]}],
                "selectionMode": self.selection_mode(fault, spec.select or Select(count=1), None),
            }
            self.out.notes.append(
                f"{fault.id}: FIS picks instances of group {spec.name} by its "
                "aws:autoscaling:groupName tag; the group's allow tag is not checked by FIS"
            )
            self.add(fault, "aws:ec2:terminate-instances", "Instances", target_json, {})
        elif fault.kind == "aws.ecs.stop-task" and isinstance(spec, EcsTarget):
            parameters: Json = {"cluster": spec.cluster}
            if spec.service:
                parameters["service"] = spec.service
            target_json = {
                "resourceType": "aws:ecs:task",
                "parameters": parameters,
                "selectionMode": self.selection_mode(fault, spec.select or Select(count=1), None),
            }
            self.out.notes.append(
                f"{fault.id}: FIS picks tasks by cluster/service; their allow tag is not checked"
            )
            self.add(fault, "aws:ecs:stop-task", "Tasks", target_json, {})
        elif fault.kind in ("aws.rds.reboot", "aws.rds.failover") and isinstance(spec, RdsTarget):
            self.rds(fault, spec)
        elif is_aws_kind(fault.kind):
            self.out.notes.append(f"{fault.id}: {fault.kind} has no FIS action; left out")

    def rds(self, fault: Fault, spec: RdsTarget) -> None:
        if spec.db_cluster is not None and fault.kind == "aws.rds.failover":
            target: Json = {
                "resourceType": "aws:rds:cluster",
                "resourceArns": self.rds_arn(fault, "cluster", spec.db_cluster),
                "selectionMode": "ALL",
            }
            self.add(fault, "aws:rds:failover-db-cluster", "Clusters", target, {})
            return
        if spec.db_instance is None:
            self.out.notes.append(
                f"{fault.id}: rebooting a cluster's writer is resolved at run time; left out"
            )
            return
        force = fault.kind == "aws.rds.failover" or bool(fault.params.get("force_failover"))
        target = {
            "resourceType": "aws:rds:db",
            "resourceArns": self.rds_arn(fault, "db", spec.db_instance),
            "selectionMode": "ALL",
        }
        params: Json = {"forceFailover": "true" if force else "false"}
        self.add(fault, "aws:rds:reboot-db-instances", "DBInstances", target, params)

    def stop_conditions(self) -> list[JsonValue]:
        conditions: list[JsonValue] = []
        for stop in self.scenario.stop_conditions:
            probe = self.scenario.probe(stop.probe)
            if probe is None or probe.kind != "aws.cloudwatch.alarm":
                self.out.notes.append(
                    f"stop condition on probe {stop.probe}: not an alarm; left out"
                )
                continue
            alarm = str(probe.params.get("name", ""))
            region = str(probe.params.get("region") or self.region)
            account = self.need_account(f"stop condition on alarm {alarm}")
            conditions.append(
                {
                    "source": "aws:cloudwatch:alarm",
                    "value": f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm}",
                }
            )
            if stop.failing_for:
                self.out.notes.append(
                    f"stop condition on {alarm}: FIS stops as soon as the alarm fires "
                    "(failing_for is not expressible)"
                )
        return conditions or [{"source": "none"}]


def _region(scenario: Scenario, region: str | None) -> str:
    """The one region of the AWS faults' targets (an FIS template is regional)."""
    regions: set[str] = set()
    for fault in scenario.faults:
        target = scenario.targets.get(fault.target or "")
        if target is not None and target.is_aws and is_aws_kind(fault.kind):
            found = target.spec(target.kind).region
            if isinstance(found, str):
                regions.add(found)
    if region is not None:
        if regions - {region}:
            raise UsageError(
                f"--region {region} differs from the targets' {', '.join(sorted(regions))}"
            )
        return region
    if len(regions) == 1:
        return regions.pop()
    if not regions:
        raise UsageError("the AWS fault targets name no region: give --region")
    raise UsageError(
        f"an FIS template is regional and the AWS faults span {', '.join(sorted(regions))}: "
        "export one region at a time with --region"
    )


def export_fis(
    scenario: Scenario,
    *,
    account: str | None = None,
    role_arn: str | None = None,
    region: str | None = None,
) -> FisExport:
    """The FIS experiment template for ``scenario``'s AWS faults; validated, touches nothing."""
    safety = safety_of(scenario)
    if account is None and len(safety.allowed_accounts) == 1:
        account = safety.allowed_accounts[0]
    builder = _Builder(scenario, safety, account, _region(scenario, region))
    for fault in scenario.faults:
        builder.fault(fault)
    if not builder.actions:
        raise UsageError(f"scenario {scenario.id} has no AWS fault that FIS can run")
    role = role_arn or f"arn:aws:iam::{builder.need_account('the FIS role')}:role/kunren-fis"
    template: Json = {
        "description": f"kunren drill {scenario.id}: {scenario.title}"[:512],
        "roleArn": role,
        "targets": builder.targets,
        "actions": builder.actions,
        "stopConditions": builder.stop_conditions(),
        "experimentOptions": {
            "accountTargeting": "single-account",
            "emptyTargetResolutionMode": "fail",
        },
        "tags": {"kunren:scenario": scenario.id, **safety.require_tag},
    }
    if role_arn is None:
        builder.out.notes.append(f"roleArn defaults to {role}; give --role-arn for another role")
    validate_request(
        "fis", "CreateExperimentTemplateRequest", {**template, "clientToken": "kunren"}
    )
    builder.out.template = template
    return builder.out
