"""The one runbook path without a conductor: the role rule, and intent recorded before acting,
so that `kunren revert` can undo a reversible runbook after a crash."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

from kunren.drills.recovery import revert_drill
from kunren.page import LocalDrillControl
from kunren.record.eventlog import EventLog
from kunren.record.events import DrillStarted
from kunren.runtime.clock import VirtualClock
from kunren.scenarios.models import RunbookSpec, Scenario


def _scenario_text(marker: Path) -> str:
    return yaml.safe_dump(
        {
            "version": 1,
            "id": "tabletop",
            "title": "Runbooks at the table",
            "duration": "30m",
            "roles": {"sre": {}, "support": {}},
            "runbooks": [
                {
                    "id": "flag",
                    "title": "Raise the flag",
                    "kind": "testing.marker",
                    "path": str(marker),
                    "roles": ["sre"],
                }
            ],
        }
    )


def test_one_role_rule_an_empty_role_list_is_open_to_all() -> None:
    open_to_all = RunbookSpec(id="a", title="A", kind="testing.marker")
    only_sre = RunbookSpec(id="b", title="B", kind="testing.marker", roles=["sre"])
    assert open_to_all.allows("support") and open_to_all.allows("sre")
    assert only_sre.allows("sre") and not only_sre.allows("support")


def test_a_page_runbook_records_intent_before_acting_and_revert_undoes_it(tmp_path: Path) -> None:
    marker = tmp_path / "flag.marker"
    text = _scenario_text(marker)
    log = EventLog.create(tmp_path / "drill", text)
    log.append(
        DrillStarted(
            drill="drill", scenario_id="tabletop", title="t", duration=1800.0, clock="virtual"
        )
    )
    drill = LocalDrillControl(
        Scenario.model_validate(yaml.safe_load(text)),
        log,
        VirtualClock(start=60.0),
        participant_token="p" * 40,
        facilitator_token="f" * 40,
    )

    refused = asyncio.run(drill.run_runbook("flag", "Aiko", "support"))
    assert (refused.result, refused.detail) == ("refused", "role support may not run flag")
    assert not marker.exists()

    done = asyncio.run(drill.run_runbook("flag", "Ben", "sre"))
    assert done.result == "ok" and marker.exists()
    types = [(e.type, getattr(e, "fault", None)) for e in log.read()]
    assert types == [
        ("drill.started", None),
        ("runbook", None),
        ("fault.injecting", "runbook:flag"),
        ("fault.injected", "runbook:flag"),
        ("runbook", None),
    ]

    # The page's process dies here; the record alone is enough to undo the runbook.
    report = asyncio.run(revert_drill(log.drill_dir))
    assert report.reverted == ["runbook:flag"] and report.failed == []
    assert not marker.exists()
