"""Real Prometheus and Alertmanager (Debian's packages) for the tests: started on 127.0.0.1
with their own config and data folders under the test's tmp dir, waited for, and stopped."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kunren.runtime.ports import free_port
from tests.waiting import poll

PROMETHEUS = shutil.which("prometheus")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
needs_prometheus = pytest.mark.skipif(
    PROMETHEUS is None, reason="prometheus is not installed (.ci/run installs it)"
)
needs_alertmanager = pytest.mark.skipif(
    ALERTMANAGER is None, reason="prometheus-alertmanager is not installed (.ci/run installs it)"
)


@dataclass
class Program:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _ready(url: str) -> bool | None:
    try:
        return True if httpx.get(url, timeout=1.0).status_code == 200 else None
    except httpx.HTTPError:
        return None


@contextmanager
def program(argv: list[str], ready_path: str, port: int, log: Path) -> Iterator[Program]:
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    running = Program(process, url, log)
    try:
        poll(lambda: _ready(url + ready_path) if process.poll() is None else False, 30, argv[0])
        assert process.poll() is None, running.output()
        yield running
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@contextmanager
def alertmanager(tmp: Path, config: str) -> Iterator[Program]:
    assert ALERTMANAGER is not None
    folder = tmp / "alertmanager"
    (folder / "data").mkdir(parents=True)
    (folder / "alertmanager.yml").write_text(config)
    port = free_port()
    argv = [
        ALERTMANAGER,
        f"--config.file={folder / 'alertmanager.yml'}",
        f"--storage.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    with program(argv, "/-/ready", port, folder / "log") as running:
        yield running


@contextmanager
def prometheus(tmp: Path, config: str, rules: str) -> Iterator[Program]:
    assert PROMETHEUS is not None
    folder = tmp / "prometheus"
    (folder / "data").mkdir(parents=True)
    (folder / "rules.yml").write_text(rules)
    (folder / "prometheus.yml").write_text(config.replace("RULES", str(folder / "rules.yml")))
    port = free_port()
    argv = [
        PROMETHEUS,
        f"--config.file={folder / 'prometheus.yml'}",
        f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    with program(argv, "/-/ready", port, folder / "log") as running:
        yield running
