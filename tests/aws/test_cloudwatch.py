"""The aws.cloudwatch.alarm probe against moto (moto never evaluates alarms: set_alarm_state)."""

from __future__ import annotations

import pytest

from kunren.errors import KunrenError
from kunren.probes.cloudwatch import CloudWatchAlarmParams, CloudWatchAlarmProbe
from kunren.scenarios.models import ProbeSpec
from tests.aws.helpers import client, context, run, scenario

pytestmark = pytest.mark.aws


def probe(name: str) -> CloudWatchAlarmProbe:
    spec = ProbeSpec.model_validate(
        {"id": "api-alarm", "aws.cloudwatch.alarm": {"name": name, "region": "us-east-1"}}
    )
    params = CloudWatchAlarmParams.model_validate(spec.params)
    return CloudWatchAlarmProbe(context(scenario({})), spec, params)


def make_alarm(name: str) -> None:
    client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        MetricName="5xx",
        Namespace="shop",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )


def test_alarm_state_drives_the_probe(unique: str) -> None:
    name = f"api-5xx-{unique}"
    make_alarm(name)
    cloudwatch = client("cloudwatch")

    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="quiet")
    assert run(probe(name).check()).ok

    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="5xx  above\n1")
    failing = run(probe(name).check())
    assert not failing.ok
    assert failing.detail == f"alarm {name} is ALARM: 5xx above 1"

    cloudwatch.set_alarm_state(AlarmName=name, StateValue="INSUFFICIENT_DATA", StateReason="gap")
    assert run(probe(name).check()).ok


def test_missing_alarm_raises_instead_of_looking_like_impact(unique: str) -> None:
    with pytest.raises(KunrenError, match=f"CloudWatch alarm none-{unique} not found in us-east-1"):
        run(probe(f"none-{unique}").check())
