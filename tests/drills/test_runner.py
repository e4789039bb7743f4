"""The runner asks the fault kinds, not their names: what touches real systems, and preflight."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kunren.drills.runner import RunSettings, real_systems, start_drill
from kunren.errors import GuardrailError
from kunren.scenarios.loader import LoadedScenario, load_scenario_text

REACH = """
version: 1
id: reach
title: Reach
duration: 10m
targets:
  web: {aws.ec2: {filters: {"tag:Role": web}}}
  nginx: {process: {pattern: "^nginx: master"}}
  remote: {url: "http://shop.example.com:8080", upstream: "http://10.0.0.5:8080"}
  local: {url: "http://127.0.0.1:18080", upstream: "http://127.0.0.1:18081"}
faults:
  - {id: stop-web, at: 1m, kind: aws.ec2.stop, target: web}
  - {id: kill-nginx, at: 2m, kind: process.kill, target: nginx}
  - {id: slow-remote, at: 3m, kind: http.fault, target: remote, respond: {status: 500}}
  - {id: slow-local, at: 4m, kind: http.fault, target: local, respond: {status: 500}}
safety:
  allowed_regions: [ap-northeast-1]
  allowed_accounts: ["123456789012"]
"""


def _loaded(tmp_path: Path) -> LoadedScenario:
    return load_scenario_text(REACH, str(tmp_path / "reach.yaml"), tmp_path)


def test_real_systems_lists_what_each_kind_says_it_reaches(tmp_path: Path) -> None:
    assert real_systems(_loaded(tmp_path)) == [
        "fault stop-web: aws.ec2.stop in AWS",
        "fault kill-nginx: process.kill on a process kunren did not start",
        "fault slow-remote: http.fault in front of http://shop.example.com:8080",
    ]


def test_a_refused_preflight_stops_the_drill_before_its_folder_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No AWS call is made: the region the profile gives is refused before any.
    for name, value in {
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    drills = tmp_path / "drills"
    settings = RunSettings(drills_root=drills, clock_kind="virtual")
    with pytest.raises(
        GuardrailError, match=r"^fault stop-web \(aws.ec2.stop\): refused: .*eu-west-1"
    ):
        asyncio.run(start_drill(_loaded(tmp_path), settings))
    assert not drills.exists()
