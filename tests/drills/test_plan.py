"""``kunren plan``: the drill's timeline in time order, built from the conductor's own schedule
steps, and it touches nothing.

``--resolve`` is the one part that talks to a system: it is tested against moto's server on
loopback (real HTTP, real boto3), the way a user would point kunren at an AWS endpoint.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kunren.drills.plan import build_plan, render_plan
from kunren.drills.schedule import EndStep, build_schedule
from kunren.scenarios.loader import load_scenario

KUNREN = Path(sys.executable).parent / "kunren"
REPO = Path(__file__).resolve().parents[2]

SMALL = """\
version: 1
id: small
title: A small drill
duration: 30m
roles:
  sre: {}
  support: {}
services:
  app: {command: [sleep, "1000"], ready: "http://127.0.0.1:18099/health"}
targets:
  app-proc: {process: {service: app}}
  marker: {url: "http://127.0.0.1:18098", upstream: "http://127.0.0.1:18099"}
faults:
  - {id: touch, at: 10m, kind: testing.marker, path: touched.txt, for: 5m}
  - {id: freeze, at: 4m, kind: process.stop, target: app-proc, for: 2m}
injects:
  - {at: 5m, kind: inquiry, text: "A customer calls", to: support}
  - {at: 12m, kind: unavailable, who: alice, for: 10m}
probes:
  - {id: alive, every: 15s, command: {run: "true"}}
stop_conditions:
  - {probe: alive, failing_for: 10m}
load:
  urls: [/]
  host: http://127.0.0.1:18098
  stages:
    - {at: 0m, users: 2, spawn_rate: 1}
    - {at: 8m, users: 10, spawn_rate: 5}
objectives:
  detected: {within: 3m}
  customer_notified: {within: 10m, by: support}
runbooks:
  - {id: thaw, title: Thaw the app, kind: process.kill, target: app-proc, signal: CONT, roles: sre}
"""

SMALL_PLAN = """\
small: A small drill
T0 (objectives count from here): the first fault (freeze at 4m)

TIME   UNTIL  WHAT       ID                 DETAIL
00:00         service    app                start sleep 1000 (ready: http://127.0.0.1:18099/health)
00:00         probe      alive              command every 15s: run=true
00:00         stop       alive              abort and revert all if it fails for 10m
00:00  08:00  load       load:1             2 users (spawn 1/s): GET / on http://127.0.0.1:18098
04:00  06:00  fault      fault:freeze       process.stop on app-proc
05:00         inject     inject:1           inquiry: A customer calls (to support)
06:00         revert     revert:freeze      undo process.stop after 2m
07:00         objective  detected           reached within 3m of T0
08:00  30:00  load       load:2             10 users (spawn 5/s)
10:00  15:00  fault      fault:touch        testing.marker: path=touched.txt
12:00  22:00  inject     inject:2           unavailable: alice is away for 10m
14:00         objective  customer_notified  reached within 10m of T0, by support
15:00         revert     revert:touch       undo testing.marker after 5m
30:00         end        end                drill ends; milestones not reached are censored (30+ min)

Targets
  app-proc  process: {service: app}
  marker    url: http://127.0.0.1:18098 (fault proxy, forwards to http://127.0.0.1:18099)

Runbooks
  thaw  process.kill on app-proc: signal=CONT; roles: sre: Thaw the app

Nothing was touched: this is the plan only.
"""  # noqa: E501


def _kunren(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KUNREN), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_plan_prints_the_whole_timeline_in_time_order(tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text(SMALL, encoding="utf-8")
    result = _kunren("plan", "small.yaml", cwd=tmp_path)
    assert result.stdout == SMALL_PLAN
    assert result.stderr == ""
    assert result.returncode == 0


def test_plan_touches_nothing(tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text(SMALL, encoding="utf-8")
    result = _kunren("plan", "small.yaml", cwd=tmp_path)
    assert result.returncode == 0
    # the marker fault writes this file when it is injected; planning must not inject it
    assert not (tmp_path / "touched.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"]


def test_rows_at_the_same_time_come_in_the_order_a_drill_brings_them_up(tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text(SMALL, encoding="utf-8")
    plan = build_plan(load_scenario(tmp_path / "small.yaml").scenario)
    at_zero = [row.what for row in plan.rows if row.at == 0]
    assert at_zero == ["service", "probe", "stop", "load"]
    assert [row.at for row in plan.rows] == sorted(row.at for row in plan.rows)
    assert plan.rows[-1].what == "end"


def test_the_timed_rows_are_the_conductors_steps_in_its_order_under_their_keys(
    tmp_path: Path,
) -> None:
    text = SMALL.replace(
        "runbooks:",
        "simulate:\n  seed: 4\n  people:\n"
        "    - {role: sre, person: bob, detected: 3m-6m, triaged: 9m}\n"
        "    - {role: support, person: alice, customer_notified: 13m-14m}\n"
        "runbooks:",
    )
    (tmp_path / "sim.yaml").write_text(text, encoding="utf-8")
    scenario = load_scenario(tmp_path / "sim.yaml").scenario
    plan = build_plan(scenario)
    keys = {step.key for step in build_schedule(scenario)}
    step_rows = [(row.at, row.id) for row in plan.rows if row.id in keys]
    assert step_rows == [(step.at, step.key) for step in build_schedule(scenario)]
    assert step_rows[-1] == (30 * 60, EndStep.key)
    simulated = [(row.id, row.detail) for row in plan.rows if row.what == "simulated"]
    # the times the drill will use (seeded); alice is away 12m-22m, so she marks nothing
    detected = next(step for step in build_schedule(scenario) if step.key == "sim:bob:detected")
    assert simulated == [
        ("sim:bob:detected", "bob (sre) marks detected, drawn from 3m-6m"),
        ("sim:bob:triaged", "bob (sre) marks triaged"),
    ]
    assert 180 <= detected.at <= 360


def test_a_drill_without_faults_counts_objectives_from_its_start() -> None:
    plan = build_plan(load_scenario(REPO / "scenarios" / "tabletop-notify.yaml").scenario)
    assert plan.t0_note == "T0 (objectives count from here): drill start, as there are no faults"
    objectives = {row.id: row.at for row in plan.rows if row.what == "objective"}
    assert objectives["customer_notified"] == 15 * 60


def test_impact_t0_says_the_deadlines_assume_the_first_fault(tmp_path: Path) -> None:
    text = SMALL.replace("duration: 30m\n", "duration: 30m\nt0: impact\n")
    (tmp_path / "impact.yaml").write_text(text, encoding="utf-8")
    rendered = render_plan(build_plan(load_scenario(tmp_path / "impact.yaml").scenario))
    assert rendered.splitlines()[1] == (
        "T0 (objectives count from here): impact, the first probe failure; "
        "deadlines below assume the first fault (freeze at 4m)"
    )


# ---------------------------------------------------------------- --resolve against moto


@pytest.fixture(scope="module")
def moto_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    config = tmp_path_factory.mktemp("aws")
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_CONFIG_FILE": str(config / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(config / "credentials"),
    }
    try:
        yield env
    finally:
        server.stop()


AWS_SCENARIO = """\
version: 1
id: aws-plan
title: Resolve before the drill
duration: 30m
targets:
  web: {aws.ec2: {region: us-east-1, filters: {"tag:Role": ROLE}, select: {count: 1}}}
faults:
  - {id: stop-web, at: 5m, kind: aws.ec2.stop, target: web}
safety:
  require_tag: {"kunren:allow": "true"}
  max_targets: 1
  allowed_regions: [us-east-1]
"""


@pytest.mark.aws
def test_plan_resolve_lists_the_instances_a_fault_would_hit_and_changes_none(
    moto_env: dict[str, str], tmp_path: Path
) -> None:
    import boto3

    role = f"web-{tmp_path.name}"
    ec2 = boto3.client(
        "ec2",
        region_name="us-east-1",
        endpoint_url=moto_env["AWS_ENDPOINT_URL"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def instance(tags: dict[str, str]) -> str:
        reply = ec2.run_instances(
            ImageId="ami-12c6146b",
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
                }
            ],
        )
        return str(reply["Instances"][0]["InstanceId"])

    allowed = instance({"Role": role, "kunren:allow": "true"})
    untagged = instance({"Role": role})
    (tmp_path / "aws.yaml").write_text(AWS_SCENARIO.replace("ROLE", role), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | moto_env
    result = subprocess.run(
        [str(KUNREN), "plan", "aws.yaml", "--resolve"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.stderr == ""
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    section = lines.index("Resolved now (read-only calls)")
    resolved = lines[section + 1 : section + 2]
    assert len(resolved) == 1
    assert resolved[0].startswith(f"  stop-web: aws.ec2.stop on web (us-east-1): {allowed} [")
    assert "1 without the allow tag left out" in resolved[0]
    assert untagged not in result.stdout
    states = ec2.describe_instances(InstanceIds=[allowed, untagged])["Reservations"]
    running = {i["InstanceId"]: i["State"]["Name"] for r in states for i in r["Instances"]}
    assert running == {allowed: "running", untagged: "running"}


def test_plan_without_resolve_makes_no_aws_call(tmp_path: Path) -> None:
    (tmp_path / "aws.yaml").write_text(AWS_SCENARIO.replace("ROLE", "web"), encoding="utf-8")
    # an endpoint nothing listens on: any AWS call would fail the command
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1"}
    result = _kunren("plan", "aws.yaml", cwd=tmp_path, env=env)
    assert result.returncode == 0
    assert "Resolved now" not in result.stdout
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["05:00", "fault", "fault:stop-web", "aws.ec2.stop", "on", "web"] in rows


def test_plan_of_a_missing_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = _kunren("plan", "nope.yaml", cwd=tmp_path)
    assert result.stderr.splitlines() == ["nope.yaml: no such file"]
    assert result.stdout == ""
    assert result.returncode == 2
