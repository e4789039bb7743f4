"""ECS stop-task against moto: only tasks carrying the allow tag are candidates."""

from __future__ import annotations

from typing import Any

import pytest

from kunren.errors import GuardrailError
from tests.aws.helpers import client, context, injector, request, run, scenario

pytestmark = pytest.mark.aws


def network(name: str) -> dict[str, Any]:
    # moto needs a subnet and a security group for awsvpc tasks, else it answers 500.
    ec2 = client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    group = ec2.create_security_group(GroupName=name, Description="drill tasks", VpcId=vpc)[
        "GroupId"
    ]
    return {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}}


def start_tasks(cluster: str, count: int, tags: list[dict[str, str]], batch: str) -> list[str]:
    ecs = client("ecs")
    answer = ecs.run_task(
        cluster=cluster,
        taskDefinition=cluster,
        count=count,
        launchType="FARGATE",
        networkConfiguration=network(f"{cluster}-{batch}"),
        startedBy="ecs-svc/web",
        group="service:web",
        tags=tags,
    )
    return sorted(task["taskArn"] for task in answer["tasks"])


def make_cluster(name: str) -> None:
    ecs = client("ecs")
    ecs.create_cluster(clusterName=name)
    ecs.register_task_definition(
        family=name,
        containerDefinitions=[{"name": "web", "image": "nginx", "memory": 128}],
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
    )


def desired(cluster: str, arns: list[str]) -> dict[str, str]:
    tasks = client("ecs").describe_tasks(cluster=cluster, tasks=arns)["tasks"]
    return {task["taskArn"]: task["desiredStatus"] for task in tasks}


def test_stop_task_stops_one_tagged_task_of_the_service(unique: str) -> None:
    cluster = f"shop-{unique}"
    make_cluster(cluster)
    tagged = start_tasks(cluster, 2, [{"key": "kunren:allow", "value": "true"}], "a")
    untagged = start_tasks(cluster, 2, [{"key": "team", "value": "web"}], "b")
    scn = scenario(
        {"shop": {"aws.ecs": {"region": "us-east-1", "cluster": cluster, "service": "web"}}}
    )
    stop = injector(context(scn), request(scn, "aws.ecs.stop-task", "shop", {"reason": "game day"}))

    planned = run(stop.plan())
    injected = run(stop.inject())

    assert planned.targets == injected.targets
    (victim,) = injected.targets
    assert victim in tagged
    states = desired(cluster, tagged + untagged)
    assert {arn for arn, status in states.items() if status == "STOPPED"} == {victim}
    assert injected.revert is None


def test_cluster_without_tagged_tasks_is_refused(unique: str) -> None:
    cluster = f"plain-{unique}"
    make_cluster(cluster)
    untagged = start_tasks(cluster, 1, [{"key": "team", "value": "web"}], "a")
    scn = scenario({"shop": {"aws.ecs": {"region": "us-east-1", "cluster": cluster}}})

    with pytest.raises(GuardrailError, match="matched 1 resources in us-east-1, none tagged"):
        run(injector(context(scn), request(scn, "aws.ecs.stop-task", "shop")).inject())
    assert desired(cluster, untagged) == {untagged[0]: "RUNNING"}
