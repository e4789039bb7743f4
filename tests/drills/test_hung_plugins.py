"""A real ``kunren run`` with third-party plugins that never return, on its PYTHONPATH.

An ``inject`` that awaits forever, one that blocks its thread forever (a plain ``def``), one
that swallows its own cancellation, and a ``revert`` that awaits forever must each fail on their
own after the fault's ``call_timeout``:
the drill goes on to its end, every other fault is undone, the record says which call timed
out, the revert that timed out is left outstanding (exit code 4) and ``kunren revert`` retries
it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from kunren.drills.faults import outstanding_faults
from kunren.record.eventlog import EventLog
from kunren.record.events import DrillEnded, FaultFailed, FaultReverted, FaultRevertFailed

from . import hung
from .disk import run_limited

SCENARIO = """
version: 1
id: hung
title: Plugins that never return
duration: 10m
faults:
  - {id: flag, at: 1m, kind: testing.marker, path: flag.marker}
  - {id: awaits, at: 2m, kind: hung.inject, path: awaits.marker, call_timeout: 1s}
  - {id: blocks, at: 3m, kind: hung.blocking, path: blocks.marker, call_timeout: 1s}
  - {id: stuck, at: 4m, kind: hung.revert, path: stuck.marker, call_timeout: 1s}
  - {id: stubborn, at: 4m30s, kind: hung.stubborn, path: stubborn.marker, call_timeout: 1s}
  - {id: later, at: 5m, kind: testing.marker, path: later.marker}
"""
ORIGIN = hung.ORIGIN


def _env(site: Path) -> dict[str, str]:
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {"PYTHONPATH": path}


@pytest.mark.integration
def test_plugin_calls_that_never_return_time_out_and_the_drill_goes_on_to_its_end(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    env = _env(hung.install(tmp_path / "site"))
    scenario = write_scenario(SCENARIO)
    (tmp_path / "jam").write_text("the revert hangs while this exists", encoding="utf-8")

    done = run_limited(["run", str(scenario), "--clock", "virtual", "--yes"], tmp_path, None, env)

    output = done.stdout + done.stderr
    assert done.returncode == 4, output
    assert "Traceback" not in output
    (drill,) = list((tmp_path / "drills").iterdir())
    events = EventLog(drill).read()
    failed = {e.fault: e.error for e in events if isinstance(e, FaultFailed)}
    assert failed == {
        "awaits": f"fault kind hung.inject {ORIGIN}: inject did not return within 1s (cancelled)",
        "blocks": f"fault kind hung.blocking {ORIGIN}: inject did not return within 1s "
        "(its thread cannot be stopped: it was abandoned, still running)",
        "stubborn": f"fault kind hung.stubborn {ORIGIN}: inject did not return within 1s "
        "(it ignored its cancellation: abandoned, still running)",
    }
    (revert_failed,) = [e for e in events if isinstance(e, FaultRevertFailed)]
    assert (revert_failed.fault, revert_failed.error) == (
        "stuck",
        f"fault kind hung.revert {ORIGIN}: revert did not return within 1s (cancelled)",
    )
    # the two that hung mid-inject are undone from their planned handles, the others as usual
    reverted = sorted(e.fault for e in events if isinstance(e, FaultReverted))
    assert reverted == ["awaits", "blocks", "flag", "later", "stubborn"]
    assert isinstance(events[-1], DrillEnded)
    for name in ("flag", "awaits", "blocks", "later", "stubborn"):
        assert not (tmp_path / f"{name}.marker").exists(), name
    assert (tmp_path / "stuck.marker").exists()
    assert [o.key for o in outstanding_faults(events)] == ["stuck"]
    assert "revert failed for stuck" in done.stderr
    assert "revert did not return within 1s" in done.stdout
    # exit 4 still writes the retro report, which names the revert that timed out
    (report_line,) = [line for line in done.stdout.splitlines() if line.startswith("Report: ")]
    report = (tmp_path / report_line.removeprefix("Report: ")).read_text(encoding="utf-8")
    assert "revert did not return within 1s" in report

    (tmp_path / "jam").unlink()
    retried = run_limited(["revert", str(drill)], tmp_path, None, env)

    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert not (tmp_path / "stuck.marker").exists()
    assert outstanding_faults(EventLog(drill).read()) == []
