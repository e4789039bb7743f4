"""The monitoring chain with the real programs: Prometheus scrapes the demo shop's /metrics,
a rule fires on the fault, Alertmanager delivers to the drill's intake, and kunren's own
prometheus probe asks the same Prometheus. Debian's prometheus and prometheus-alertmanager."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kunren.record.events import Alert, ProbeFailed, ProbeRecovered
from kunren.record.stream import read_record
from kunren.runtime.ports import free_port
from kunren.testing import KunrenProcess
from tests.monitoring.programs import (
    Program,
    alertmanager,
    needs_alertmanager,
    needs_prometheus,
    prometheus,
)
from tests.monitoring.test_intake_server import TOKEN, close_intake, open_intake
from tests.waiting import poll

pytestmark = [pytest.mark.integration, needs_alertmanager]

ALERTMANAGER_CONFIG = """
route:
  receiver: kunren
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: kunren
    webhook_configs:
      - url: INTAKE/intake/alertmanager
        send_resolved: true
        max_alerts: 0
        http_config:
          authorization:
            type: Bearer
            credentials_file: TOKEN_FILE
"""


def alertmanager_config(intake_url: str, token_file: Path) -> str:
    return ALERTMANAGER_CONFIG.replace("INTAKE", intake_url).replace("TOKEN_FILE", str(token_file))


def write_token(tmp_path: Path) -> Path:
    path = tmp_path / "intake-token"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(TOKEN + "\n")
    return path


def test_an_alertmanager_group_of_500_alerts_is_recorded(tmp_path: Path) -> None:
    intake = open_intake(tmp_path)
    try:
        intake.start()
        config = alertmanager_config(intake.server.url, write_token(tmp_path))
        with alertmanager(tmp_path, config) as am:
            storm = [
                {"labels": {"alertname": "Storm", "instance": f"web-{n:03d}", "severity": "page"}}
                for n in range(500)
            ]
            assert httpx.post(f"{am.url}/api/v2/alerts", json=storm, timeout=10).status_code == 200
            recorded = poll(
                lambda: a if len(a := intake.alerts()) >= 500 else None, 60, "500 alerts"
            )
    finally:
        close_intake(intake)
    assert len(recorded) == 500
    assert {a.labels["instance"] for a in recorded} == {f"web-{n:03d}" for n in range(500)}
    assert len({a.identity for a in recorded}) == 500
    assert all(a.status == "firing" and re.fullmatch(r"[0-9a-f]{16}", a.identity) for a in recorded)


# ---------------------------------------------------------------------- the whole chain

PROMETHEUS_CONFIG = """
global: {scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 500ms}
rule_files: [RULES]
alerting:
  alertmanagers:
    - static_configs: [{targets: ["ALERTMANAGER"]}]
scrape_configs:
  - job_name: shop
    static_configs: [{targets: [SHOPS]}]
"""

RULES = """
groups:
  - name: shop
    rules:
      - alert: ShopDown
        expr: up{job="shop"} == 0
        for: 0s
        labels: {severity: page}
        annotations: {summary: "{{ $labels.instance }} does not answer"}
"""

SCENARIO = """
version: 1
id: monitoring-chain
title: Two shops hang; monitoring tells
duration: 26s
targets:
  shop-a: {process: {pid_file: PID_A}}
  shop-b: {process: {pid_file: PID_B}}
faults:
  - {id: a-hangs, at: 2s, kind: process.stop, target: shop-a, for: 6s}
  - {id: b-hangs, at: 2s, kind: process.stop, target: shop-b, for: 14s}
probes:
  - id: shops-up
    every: 1s
    prometheus: {url: PROMETHEUS, query: 'up{job="shop"} == 0', expect: empty, timeout: 2s}
intake: {port: INTAKE_PORT, token_file: TOKEN_FILE}
"""


def start_shop(port: int, pid_file: Path) -> subprocess.Popen[bytes]:
    shop = subprocess.Popen(
        [sys.executable, "-m", "kunren.demo.shop", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pid_file.write_text(f"{shop.pid}\n")
    return shop


@pytest.fixture
def shops(tmp_path: Path) -> Iterator[list[tuple[int, Path]]]:
    ports = [free_port(), free_port()]
    pid_files = [tmp_path / "shop-a.pid", tmp_path / "shop-b.pid"]
    running = [start_shop(port, pid) for port, pid in zip(ports, pid_files, strict=True)]
    try:
        yield list(zip(ports, pid_files, strict=True))
    finally:
        for shop in running:
            shop.kill()
            shop.wait(10)


def both_up(prom: Program) -> bool | None:
    reply = httpx.get(f"{prom.url}/api/v1/query", params={"query": 'sum(up{job="shop"})'})
    result = reply.json()["data"]["result"]
    return True if result and float(result[0]["value"][1]) == 2 else None


@needs_prometheus
def test_a_fault_fires_per_instance_and_one_recovering_leaves_the_other_firing(
    tmp_path: Path, shops: list[tuple[int, Path]]
) -> None:
    token_file = write_token(tmp_path)
    intake_port = free_port()
    (port_a, pid_a), (port_b, pid_b) = shops
    with alertmanager(
        tmp_path, alertmanager_config(f"http://127.0.0.1:{intake_port}", token_file)
    ) as am:
        prom_config = PROMETHEUS_CONFIG.replace("ALERTMANAGER", am.url.removeprefix("http://"))
        prom_config = prom_config.replace("SHOPS", f'"127.0.0.1:{port_a}", "127.0.0.1:{port_b}"')
        with prometheus(tmp_path, prom_config, RULES) as prom:
            poll(lambda: both_up(prom), 30, "Prometheus to scrape both shops")
            scenario = SCENARIO
            for key, value in {
                "PID_A": str(pid_a),
                "PID_B": str(pid_b),
                "PROMETHEUS": prom.url,
                "INTAKE_PORT": str(intake_port),
                "TOKEN_FILE": str(token_file),
            }.items():
                scenario = scenario.replace(key, value)
            path = tmp_path / "chain.yaml"
            path.write_text(scenario)
            run = KunrenProcess(["run", str(path), "--yes", "--port", "0", "--no-report"], tmp_path)
            assert run.finish(timeout=90) == 0, "\n".join(run.lines)
    assert any(line.startswith("Monitoring intake:    http://127.0.0.1:") for line in run.lines)
    (drill,) = list((tmp_path / "drills").iterdir())
    events = read_record(drill / "events.jsonl").events
    alerts = [e for e in events if isinstance(e, Alert)]
    by_instance = {
        instance: [a.status for a in alerts if a.labels.get("instance") == instance]
        for instance in (f"127.0.0.1:{port_a}", f"127.0.0.1:{port_b}")
    }
    assert by_instance == {
        f"127.0.0.1:{port_a}": ["firing", "resolved"],
        f"127.0.0.1:{port_b}": ["firing", "resolved"],
    }, [(a.at, a.labels, a.status) for a in alerts]
    a_fired, b_fired = sorted(
        (a for a in alerts if a.status == "firing"),
        key=lambda a: a.labels["instance"] != f"127.0.0.1:{port_a}",
    )
    a_resolved = next(
        a for a in alerts if a.identity == a_fired.identity and a.status == "resolved"
    )
    b_resolved = next(
        a for a in alerts if a.identity == b_fired.identity and a.status == "resolved"
    )
    assert a_fired.identity != b_fired.identity
    assert all(re.fullmatch(r"[0-9a-f]{16}", a.identity) for a in alerts)
    assert all(a.source == "alertmanager" and a.name == "ShopDown" for a in alerts)
    assert a_fired.labels["severity"] == "page" and a_fired.labels["job"] == "shop"
    assert a_fired.starts_at is not None and a_resolved.ends_at is not None
    assert a_fired.url is not None and "up%7Bjob%3D%22shop%22%7D" in a_fired.url
    assert all(a.lag is not None and a.lag > -1.0 for a in alerts)
    # the fault on a was reverted 8 s before b's: b stayed firing in between
    assert a_fired.at < a_resolved.at < b_resolved.at
    assert b_resolved.at - a_resolved.at > 4
    failed = [e for e in events if isinstance(e, ProbeFailed) and e.probe == "shops-up"]
    recovered = [e for e in events if isinstance(e, ProbeRecovered) and e.probe == "shops-up"]
    assert failed and recovered and failed[0].at < recovered[-1].at
    assert recovered[-1].at > a_resolved.at
