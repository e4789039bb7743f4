"""``bench/startup.py``'s instruction counts: valgrind's total, the same for the same work.

The start-up rows' times swing with the machine; the counts beside them are offered as the
figure that does not. This holds that claim: two runs of one command agree closely, and a run
doing more work counts more. ``.ci/run`` installs valgrind; elsewhere the test is skipped, as
the bench leaves its rows out.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from bench.startup import _instructions

pytestmark = [
    pytest.mark.integration,  # runs an interpreter under valgrind
    pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed"),
]


def test_the_same_command_counts_the_same_and_more_work_counts_more(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin"}
    small = [sys.executable, "-c", "import json"]
    larger = [
        sys.executable,
        "-c",
        "import json; [json.dumps(list(range(99))) for _ in range(3000)]",
    ]

    first, second, more = (_instructions(c, tmp_path, env) for c in (small, small, larger))

    assert first is not None and second is not None and more is not None
    assert first > 10_000_000  # an interpreter's start is tens of millions of instructions
    assert abs(first - second) / first < 0.01
    assert more > first * 1.2


def test_a_command_that_fails_counts_nothing(tmp_path: Path) -> None:
    failing = [sys.executable, "-c", "raise SystemExit(3)"]
    assert _instructions(failing, tmp_path, {"PATH": "/usr/bin:/bin"}) is None
