"""Input that used to validate and then break the run with a fault active, and files that are
not files: each refused with FILE:LINE: KEY.PATH, exit 2, every error of a file at once, and
nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

KUNREN = [sys.executable, "-m", "kunren"]

BASE = """
version: 1
id: {id}
title: Limits
duration: {duration}
targets:
  shop: {{url: "{url}", upstream: "{upstream}"}}
probes:
  - {{id: health, every: {every}, http: {{url: "http://127.0.0.1:18081/"}}}}
faults:
  - {{id: slow, at: 1m, kind: http.fault, target: shop, for: {for_}, respond: {{status: 500}}}}
"""

GOOD = {
    "id": "limits",
    "duration": "30m",
    "url": "http://127.0.0.1:18080",
    "upstream": "http://127.0.0.1:18081",
    "every": "5s",
    "for_": "5m",
}


def _kunren(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KUNREN, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def _write(tmp_path: Path, **changes: str) -> Path:
    path = tmp_path / "limits.yaml"
    path.write_text(textwrap.dedent(BASE.format(**{**GOOD, **changes})).lstrip())
    return path


def test_the_base_scenario_is_valid(tmp_path: Path) -> None:
    result = _kunren(["validate", str(_write(tmp_path))], tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        (
            {"duration": "99999999h"},
            "limits.yaml:4: duration: '99999999h' is longer than kunren's limit of 30 days (30d)",
        ),
        ({"duration": "0m"}, "limits.yaml:4: duration: must be longer than 0s"),
        ({"every": "0s"}, "limits.yaml:8: probes[0].every: must be longer than 0s"),
        ({"for_": "0s"}, "limits.yaml:10: faults[0].for: must be longer than 0s"),
        (
            {"id": "x" * 4000},
            "limits.yaml:2: id: an id of 4000 characters is too long "
            "(at most 64): 'xxxxxxxxxxxxxxxxxxxx…'",
        ),
        (
            {"upstream": "http://localhost:18080/"},
            "limits.yaml:6: targets.shop: upstream is the same address as url "
            "(http://127.0.0.1:18080): kunren's proxy would forward to itself; upstream is "
            "where the real service listens",
        ),
    ],
    ids=["huge-duration", "zero-duration", "zero-every", "zero-for", "long-id", "upstream=url"],
)
def test_values_that_would_break_a_run_are_refused_where_they_are(
    tmp_path: Path, changes: dict[str, str], line: str
) -> None:
    path = _write(tmp_path, **changes)
    result = _kunren(["run", str(path), "--clock", "virtual", "--no-report"], tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{path.parent}/{line}" in result.stderr.splitlines(), result.stderr
    assert not (tmp_path / "drills").exists()  # nothing written


def test_a_type_error_and_a_dangling_reference_are_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "both.yaml"
    path.write_text(
        textwrap.dedent(
            """
            version: 1
            id: both
            title: Two mistakes
            duration: 30m
            faults:
              - {id: a, at: fifteen, kind: testing.marker, path: a.marker}
              - {id: b, at: 2m, kind: process.kill, target: nowhere}
            """
        ).lstrip()
    )
    result = _kunren(["validate", str(path)], tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert any(line.startswith(f"{path}:6: faults[0].at: ") for line in lines), lines
    assert any(
        line.startswith(f"{path}:7: faults[1].target: unknown target 'nowhere'") for line in lines
    ), lines


def test_a_fifo_a_device_and_a_symlink_loop_are_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "x.yaml"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(tmp_path / "loop2.yaml")
    (tmp_path / "loop2.yaml").symlink_to(loop)
    result = _kunren(["validate", str(fifo), "/dev/zero", str(loop)], tmp_path)
    assert result.returncode == 2
    assert sorted(result.stderr.splitlines()) == sorted(
        [
            f"{fifo}: not a regular file (a FIFO); give a YAML file",
            "/dev/zero: not a regular file (a character device); give a YAML file",
            f"{loop}: a symbolic link loop: the link never reaches a file",
        ]
    )
    run = _kunren(["run", str(fifo), "--clock", "virtual"], tmp_path)
    assert run.returncode == 2 and not (tmp_path / "drills").exists()


def test_a_refused_bind_exits_2_and_writes_no_drill_folder(tmp_path: Path) -> None:
    path = _write(tmp_path)
    result = _kunren(["run", str(path), "--bind", "0.0.0.0", "--no-report"], tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "refusing to serve the participant page on 0.0.0.0" in result.stderr
    assert not (tmp_path / "drills").exists()


def test_an_entry_set_aside_for_its_own_error_is_not_reported_again_as_dangling(
    tmp_path: Path,
) -> None:
    path = tmp_path / "once.yaml"
    path.write_text(
        textwrap.dedent(
            """
            version: 1
            id: once
            title: One mistake, said once
            duration: 30m
            targets:
              web: {process: {service: shop, pattern: x}}
            faults:
              - {id: a, at: 1m, kind: process.kill, target: web}
            """
        ).lstrip()
    )
    result = _kunren(["validate", str(path)], tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{path}:6: targets.web.process: give exactly one of service, pid_file, pattern"
    ]
