"""``python -m bench`` stopped by SIGTERM or SIGHUP stops what its benchmarks started.

The benchmarks start the demo shop, Locust, conductors and writer processes each in its own
session (so a stop can signal the whole group), which also puts them out of reach of a signal
sent to the bench's own group: before, a bench terminated half-way left its shop serving and
burning a core. Now the signal unwinds the run through every benchmark's ``finally``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kunren.runtime import procfs

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int, pattern: str) -> list[procfs.ProcInfo]:
    return [info for info in procfs.matching(pattern) if info.ppid == pid]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_stopped_bench_stops_the_shop_it_started_and_removes_its_scratch(
    tmp_path: Path, signum: signal.Signals
) -> None:
    root = tmp_path / "scratch"
    bench = subprocess.Popen(
        [sys.executable, "-m", "bench", "--quick", "--only", "load"],
        cwd=ROOT,
        env={**os.environ, "KUNREN_BENCH_TMP": str(root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    shops: list[procfs.ProcInfo] = []
    try:
        deadline = time.monotonic() + 60
        while not shops and bench.poll() is None and time.monotonic() < deadline:
            shops = _children(bench.pid, r"kunren\.demo\.shop")
            time.sleep(0.05)
        assert shops, "the load benchmark started no shop within 60 s"
        (shop,) = shops
        assert shop.sid == shop.pid  # its own session: the bench's group signal misses it
        bench.send_signal(signum)
        out, err = bench.communicate(timeout=60)
    finally:
        if bench.poll() is None:
            os.killpg(bench.pid, signal.SIGKILL)
            bench.wait(10)
        for info in shops:  # a failed run must not leave the shop behind either
            if procfs.alive(info.pid, info.start):
                os.killpg(info.pid, signal.SIGKILL)
    assert bench.returncode == 128 + signum, out + err
    assert f"stopped by {signum.name}" in out, out
    deadline = time.monotonic() + 10
    while procfs.alive(shop.pid, shop.start) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert procfs.alive(shop.pid, shop.start) is None, "the shop still runs"
    assert not root.exists() or list(root.iterdir()) == []  # its scratch folder is gone
