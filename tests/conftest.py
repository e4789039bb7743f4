"""Shared fixtures: scenario files written into tmp_path, the kunren command."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bench.faultydisk import FaultyDisk, unusable

KUNREN = [sys.executable, "-m", "kunren"]
_HOME = "KUNREN_TEST_HOME"


def pytest_configure(config: pytest.Config) -> None:
    """Every test, and every process a test starts, gets a HOME of its own: kunren keeps the
    intake token in ~/.config/kunren, and a test must neither write there nor find what an
    earlier run (or the developer's own drills) left."""
    home = tempfile.mkdtemp(prefix="kunren-test-home-")
    os.environ[_HOME] = home
    os.environ["HOME"] = home
    os.environ.pop("KUNREN_INTAKE_TOKEN", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    home = os.environ.pop(_HOME, None)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write


@pytest.fixture
def faulty_disk(tmp_path: Path) -> Iterator[FaultyDisk]:
    """A FUSE filesystem under ``tmp_path`` whose fsyncs and writes fail for real when armed
    (``bench/faultydisk.py``); skipped where FUSE cannot be mounted."""
    why = unusable()
    if why is not None:
        pytest.skip(why)
    disk = FaultyDisk(tmp_path / "faulty")
    try:
        yield disk
    finally:
        disk.close()
