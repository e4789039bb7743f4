"""FIS: the export is validated against botocore's model and accepted by moto's FIS; the
``aws.fis.experiment`` kind starts a template and stops the experiment on revert."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import JsonValue

from kunren.errors import GuardrailError, KunrenError, UsageError
from kunren.injectors.aws import export_fis
from kunren.injectors.aws.fis_export import iso_duration
from kunren.injectors.aws.fis_model import validate_request
from tests.aws.helpers import (
    ACCOUNT,
    ALLOW,
    SAFE,
    client,
    context,
    injector,
    request,
    run,
    scenario,
)

pytestmark = pytest.mark.aws

TARGETS: dict[str, Any] = {
    "web": {
        "aws.ec2": {"region": "us-east-1", "filters": {"tag:Role": "web"}, "select": {"count": 1}}
    },
    "pair": {"aws.ec2": {"region": "us-east-1", "ids": ["i-0aaa", "i-0bbb"]}},
    "web-asg": {"aws.asg": {"region": "us-east-1", "name": "web"}},
    "shop": {"aws.ecs": {"region": "us-east-1", "cluster": "shop", "service": "web"}},
    "db": {"aws.rds": {"region": "us-east-1", "db_instance": "orders"}},
    "aurora": {"aws.rds": {"region": "us-east-1", "db_cluster": "orders-cluster"}},
}
FAULTS: list[dict[str, Any]] = [
    {"id": "stop-web", "at": "5m", "for": "10m", "kind": "aws.ec2.stop", "target": "web"},
    {"id": "reboot-pair", "at": "0s", "kind": "aws.ec2.reboot", "target": "pair"},
    {"id": "kill-asg", "at": "6m", "kind": "aws.asg.terminate-instance", "target": "web-asg"},
    {"id": "scale", "at": "7m", "kind": "aws.asg.set-capacity", "target": "web-asg", "desired": 4},
    {"id": "stop-task", "at": "8m", "kind": "aws.ecs.stop-task", "target": "shop"},
    {
        "id": "reboot-db",
        "at": "9m",
        "kind": "aws.rds.reboot",
        "target": "db",
        "force_failover": True,
    },
    {"id": "failover", "at": "1h", "kind": "aws.rds.failover", "target": "aurora"},
]
PROBES = [{"id": "api-alarm", "aws.cloudwatch.alarm": {"name": "api-5xx", "region": "us-east-1"}}]
STOPS = [{"probe": "api-alarm", "failing_for": "2m"}]


def obj(value: JsonValue) -> dict[str, JsonValue]:
    """The template is JSON; each part the test reads into must be an object."""
    assert isinstance(value, dict), value
    return value


def full_scenario(**changes: Any) -> Any:
    return scenario(TARGETS, faults=FAULTS, probes=PROBES, stop_conditions=STOPS, **changes)


def test_iso_durations() -> None:
    assert [iso_duration(s) for s in (0, 45, 300, 3930)] == ["PT0S", "PT45S", "PT5M", "PT1H5M30S"]


def test_export_maps_each_fault_with_its_time_targets_and_stop_condition() -> None:
    result = export_fis(full_scenario())
    t = result.template

    assert result.exported == [
        "stop-web",
        "reboot-pair",
        "kill-asg",
        "stop-task",
        "reboot-db",
        "failover",
    ]
    assert t["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/kunren-fis"
    assert t["tags"] == {"kunren:scenario": "aws-test", **ALLOW}
    assert t["stopConditions"] == [
        {
            "source": "aws:cloudwatch:alarm",
            "value": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:api-5xx",
        }
    ]
    actions, targets = obj(t["actions"]), obj(t["targets"])
    assert actions["stop-web-wait"] == {
        "actionId": "aws:fis:wait",
        "description": "drill time before stop-web",
        "parameters": {"duration": "PT5M"},
    }
    assert actions["stop-web"] == {
        "actionId": "aws:ec2:stop-instances",
        "targets": {"Instances": "stop-web"},
        "parameters": {"startInstancesAfterDuration": "PT10M"},
        "startAfter": ["stop-web-wait"],
    }
    assert targets["stop-web"] == {
        "resourceType": "aws:ec2:instance",
        "filters": [{"path": "State.Name", "values": ["running"]}],
        "resourceTags": {"Role": "web", **ALLOW},
        "selectionMode": "COUNT(1)",
    }
    assert "startAfter" not in obj(actions["reboot-pair"])  # at 0s: no wait
    assert obj(targets["reboot-pair"])["resourceArns"] == [
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0aaa",
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0bbb",
    ]
    assert obj(targets["reboot-pair"])["selectionMode"] == "ALL"
    assert obj(actions["stop-task"])["actionId"] == "aws:ecs:stop-task"
    assert obj(targets["stop-task"])["parameters"] == {"cluster": "shop", "service": "web"}
    assert obj(actions["reboot-db"])["parameters"] == {"forceFailover": "true"}
    assert obj(targets["failover"])["resourceArns"] == [
        f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:orders-cluster"
    ]
    assert obj(actions["failover-wait"])["parameters"] == {"duration": "PT1H"}
    assert "scale: aws.asg.set-capacity has no FIS action; left out" in result.notes
    assert any("failing_for is not expressible" in note for note in result.notes)


def test_exported_template_is_accepted_by_fis(unique: str) -> None:
    template = export_fis(full_scenario()).template
    created = client("fis").create_experiment_template(clientToken=unique, **template)
    assert (
        created["experimentTemplate"]["actions"]["stop-web"]["actionId"] == "aws:ec2:stop-instances"
    )


def test_validation_reports_every_problem_against_the_model() -> None:
    template = export_fis(full_scenario()).template
    broken = {**template, "description": "x" * 600, "roleArn": None, "surprise": 1}
    with pytest.raises(KunrenError) as caught:
        validate_request("fis", "CreateExperimentTemplateRequest", {**broken, "clientToken": "t"})
    message = str(caught.value)
    assert 'Unknown parameter in input: "surprise"' in message
    assert "roleArn" in message
    assert "description: longer than 512 characters" in message


def test_count_above_max_targets_is_refused_by_the_export() -> None:
    targets = {
        "web": {
            "aws.ec2": {
                "region": "us-east-1",
                "filters": {"tag:Role": "web"},
                "select": {"count": 3},
            }
        }
    }
    faults = [{"id": "stop", "at": "1m", "kind": "aws.ec2.stop", "target": "web"}]
    with pytest.raises(GuardrailError, match=r"select count 3 exceeds safety.max_targets=2"):
        export_fis(scenario(targets, faults=faults))


def test_export_needs_one_region_and_an_account() -> None:
    targets = {
        "a": {"aws.ec2": {"region": "us-east-1", "filters": {"tag:Role": "a"}}},
        "b": {"aws.ec2": {"region": "eu-west-1", "filters": {"tag:Role": "b"}}},
    }
    faults = [
        {"id": "one", "at": "1m", "kind": "aws.ec2.stop", "target": "a"},
        {"id": "two", "at": "1m", "kind": "aws.ec2.stop", "target": "b"},
    ]
    with pytest.raises(UsageError, match="span eu-west-1, us-east-1"):
        export_fis(scenario(targets, faults=faults))
    no_account = {**SAFE, "allowed_accounts": ["111111111111", "222222222222"]}
    with pytest.raises(UsageError, match="give --account"):
        export_fis(scenario(targets, faults=faults[:1], safety=no_account))
    assert (
        export_fis(
            scenario(targets, faults=faults[:1], safety=no_account), account="222222222222"
        ).template["roleArn"]
        == "arn:aws:iam::222222222222:role/kunren-fis"
    )


def make_template(unique: str, tags: dict[str, str]) -> str:
    created = client("fis").create_experiment_template(
        clientToken=unique,
        description="drill",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/kunren-fis",
        stopConditions=[{"source": "none"}],
        actions={"wait": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT5M"}}},
        tags=tags,
    )
    return str(created["experimentTemplate"]["id"])


@pytest.fixture
def experiments_stay_running(aws_env: str) -> Iterator[None]:
    """moto finishes experiments at once by default; hold them so a stop can be shown."""

    def post(path: str, body: dict[str, Any]) -> None:
        req = urllib.request.Request(
            f"{aws_env}/moto-api/state-manager/{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as answer:
            assert answer.status == 201

    post(
        "set-transition",
        {"model_name": "fis::experiment", "transition": {"progression": "manual", "times": 1000}},
    )
    try:
        yield
    finally:
        post("unset-transition", {"model_name": "fis::experiment"})


def fis_request(template_id: str) -> Any:
    scn = scenario({})
    return scn, request(
        scn, "aws.fis.experiment", None, {"template_id": template_id, "region": "us-east-1"}
    )


def test_experiment_starts_and_revert_stops_it(unique: str, experiments_stay_running: None) -> None:
    template_id = make_template(unique, ALLOW)
    scn, req = fis_request(template_id)

    injected = run(injector(context(scn), req).inject())

    assert injected.targets == [template_id]
    assert injected.revert is not None
    experiment_id = str(injected.revert["experiment_id"])
    fis = client("fis")
    assert fis.get_experiment(id=experiment_id)["experiment"]["experimentTemplateId"] == template_id
    said = run(
        injector(context(scn, fresh=True), req).revert(json.loads(json.dumps(injected.revert)))
    )
    assert said == f"stopped FIS experiment {experiment_id}"
    assert fis.get_experiment(id=experiment_id)["experiment"]["state"]["status"] in (
        "stopping",
        "stopped",
    )


def test_revert_of_a_finished_experiment_says_so(unique: str) -> None:
    template_id = make_template(unique, ALLOW)
    scn, req = fis_request(template_id)
    injected = run(injector(context(scn), req).inject())
    assert injected.revert is not None
    experiment_id = str(injected.revert["experiment_id"])
    # moto moves an experiment one state further each time it is read: read it to the end.
    fis = client("fis")
    for _ in range(20):
        if fis.get_experiment(id=experiment_id)["experiment"]["state"]["status"] == "completed":
            break
    said = run(injector(context(scn), req).revert(injected.revert))
    assert said == f"FIS experiment {experiment_id} had already completed"


def test_template_without_the_allow_tag_is_refused(unique: str) -> None:
    template_id = make_template(unique, {"team": "sre"})
    scn, req = fis_request(template_id)
    with pytest.raises(GuardrailError, match=f"{template_id} in us-east-1 lacks the allow tag"):
        run(injector(context(scn), req).inject())
    assert client("fis").list_experiments()["experiments"] == [] or all(
        e["experimentTemplateId"] != template_id
        for e in client("fis").list_experiments()["experiments"]
    )


SCENARIO_YAML = """\
version: 1
id: web-outage
title: Web tier loses an instance
duration: 30m
targets:
  web: {aws.ec2: {region: us-east-1, filters: {"tag:Role": web}, select: {count: 1}}}
faults:
  - {id: kill-web, at: 5m, kind: aws.ec2.terminate, target: web}
safety:
  require_tag: {"kunren:allow": "true"}
  max_targets: 1
  allowed_regions: [us-east-1]
  allowed_accounts: ["123456789012"]
"""


def kunren(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kunren", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_writes_the_template_file(tmp_path: Path) -> None:
    path = tmp_path / "web.yaml"
    path.write_text(SCENARIO_YAML, encoding="utf-8")
    out = tmp_path / "fis.json"

    done = kunren("export", "fis", str(path), "-o", str(out))

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert f"wrote {out}: 1 faults as FIS actions" in done.stderr
    template = json.loads(out.read_text(encoding="utf-8"))
    assert template["actions"]["kill-web"]["actionId"] == "aws:ec2:terminate-instances"
    assert template["targets"]["kill-web"]["selectionMode"] == "COUNT(1)"


def test_cli_refusal_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "web.yaml"
    path.write_text(SCENARIO_YAML.replace("count: 1", "count: 2"), encoding="utf-8")

    done = kunren("export", "fis", str(path))

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "Error: fault kill-web: select count 2 exceeds safety.max_targets=1; nothing was exported\n"
    )
