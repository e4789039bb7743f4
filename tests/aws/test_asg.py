"""Auto Scaling faults against moto: a terminated instance is replaced; capacity is restored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kunren.errors import GuardrailError, InjectionError
from tests.aws.helpers import ALLOW, AMI, client, context, injector, request, run, scenario

pytestmark = pytest.mark.aws


def make_group(name: str, tags: dict[str, str], size: int = 2) -> list[str]:
    asg = client("autoscaling")
    asg.create_launch_configuration(
        LaunchConfigurationName=name, ImageId=AMI, InstanceType="t3.micro"
    )
    asg.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchConfigurationName=name,
        MinSize=1,
        MaxSize=3,
        DesiredCapacity=size,
        AvailabilityZones=["us-east-1a"],
        Tags=[
            {
                "Key": k,
                "Value": v,
                "PropagateAtLaunch": True,
                "ResourceId": name,
                "ResourceType": "auto-scaling-group",
            }
            for k, v in tags.items()
        ],
    )
    return in_service(name)


def group(name: str) -> Any:
    return client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
        "AutoScalingGroups"
    ][0]


def in_service(name: str) -> list[str]:
    return sorted(
        i["InstanceId"] for i in group(name)["Instances"] if i["LifecycleState"] == "InService"
    )


def test_terminate_instance_is_replaced_by_the_group(unique: str) -> None:
    name = f"web-{unique}"
    before = make_group(name, ALLOW)
    scn = scenario({"web": {"aws.asg": {"region": "us-east-1", "name": name}}})

    injected = run(
        injector(context(scn), request(scn, "aws.asg.terminate-instance", "web")).inject()
    )

    (victim,) = injected.targets  # one instance by default
    assert victim in before
    after = in_service(name)
    assert victim not in after
    assert len(after) == 2  # desired capacity kept: a replacement is in service
    assert set(after) - set(before)
    state = client("ec2").describe_instances(InstanceIds=[victim])["Reservations"][0]["Instances"][
        0
    ]
    assert state["State"]["Name"] == "terminated"
    assert injected.revert is None


def test_untagged_group_is_refused(unique: str) -> None:
    name = f"plain-{unique}"
    before = make_group(name, {"Role": "web"})
    scn = scenario({"web": {"aws.asg": {"region": "us-east-1", "name": name}}})

    with pytest.raises(GuardrailError, match="lacks the allow tag kunren:allow=true"):
        run(injector(context(scn), request(scn, "aws.asg.terminate-instance", "web")).inject())
    assert in_service(name) == before


def test_set_capacity_and_its_revert_from_the_handle_alone(unique: str) -> None:
    name = f"cap-{unique}"
    make_group(name, ALLOW)
    scn = scenario({"web": {"aws.asg": {"region": "us-east-1", "name": name}}})
    req = request(scn, "aws.asg.set-capacity", "web", {"desired": 5})

    planned = run(injector(context(scn), req).plan())
    injected = run(injector(context(scn), req).inject())

    assert planned.targets == injected.targets == [name]
    scaled = group(name)
    assert (scaled["MinSize"], scaled["MaxSize"], scaled["DesiredCapacity"]) == (1, 5, 5)
    assert injected.detail == f"{name}: desired 2 -> 5 (min 1, max 5)"

    assert injected.revert is not None
    handle = json.loads(json.dumps(injected.revert))
    said = run(injector(context(scn, fresh=True), req).revert(handle))

    restored = group(name)
    assert (restored["MinSize"], restored["MaxSize"], restored["DesiredCapacity"]) == (1, 3, 2)
    assert said == f"{name}: restored min 1, max 3, desired 2"


def test_missing_group_is_one_line(unique: str) -> None:
    scn = scenario({"web": {"aws.asg": {"region": "us-east-1", "name": f"none-{unique}"}}})
    with pytest.raises(
        InjectionError, match=f"f1: Auto Scaling group none-{unique} not found in us-east-1"
    ):
        run(
            injector(
                context(scn), request(scn, "aws.asg.set-capacity", "web", {"desired": 1})
            ).plan()
        )
