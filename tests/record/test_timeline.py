"""The one timeline model: every event type becomes a structured entry, and has words in both
languages; provenance of a drill comes from its record alone."""

from __future__ import annotations

import re
from typing import get_args

import pytest

from kunren.record import events as ev
from kunren.record.timeline import EventType, drill_provenance, entry
from kunren.record.timeline_words import describe

ONE_OF_EACH: list[ev.Event] = [
    ev.DrillStarted(drill="d", scenario_id="s", duration=60),
    ev.DrillEnded(),
    ev.DrillAborted(reason="could not start: port 8080 busy"),
    ev.DrillResumed(),
    ev.FaultInjecting(fault="f", kind="process.kill", planned=["pid 1"]),
    ev.FaultInjected(fault="f", kind="process.kill", targets=["pid 1"]),
    ev.FaultFailed(fault="f", error="boom"),
    ev.FaultReverting(fault="f"),
    ev.FaultReverted(fault="f"),
    ev.FaultRevertFailed(fault="f", error="boom"),
    ev.ServiceStarted(name="web", pid=10),
    ev.ServiceStopped(name="web"),
    ev.ServiceExited(name="web", code=-9),
    ev.LoadStage(users=10, spawn_rate=2, planned=True),
    ev.LoadStats(rps=3.5),
    ev.LoadLost(process="worker 2", code=-9, detail="killed"),
    ev.ProbeFailed(probe="health", detail="500"),
    ev.ProbeRecovered(probe="health"),
    ev.Alert(name="ShopDown"),
    ev.Inject(kind="inquiry", text="a customer calls"),
    ev.Milestone(name="detected", actor="erin", role="sre", source="simulated"),
    ev.Notification(notice="n1", sender="bob", failed=["x@example.com"], recipients=2),
    ev.Runbook(runbook="restart", actor="erin", result="failed"),
    ev.Readiness(actor="carol", role="support", tool="Status page", ok=False),
    ev.ParticipantJoined(actor="bob", role="support"),
    ev.Note(text="hello", actor="bob"),
    ev.Amendment(target_seq=3, new_at=90),
]


def recorded_types() -> set[str]:
    """Every ``type`` the record's Event union can hold, read from the union itself."""
    union, _discriminator = get_args(ev.Event)
    return {member.model_fields["type"].default for member in get_args(union)}


def test_the_entry_kinds_are_exactly_the_event_types() -> None:
    assert set(get_args(EventType)) == recorded_types()
    assert {e.type for e in ONE_OF_EACH} == recorded_types()


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=lambda e: e.type)
def test_every_event_type_has_an_entry_and_words_in_both_languages(event: ev.Event) -> None:
    made = entry(event)
    assert made.kind == event.type
    english, japanese = describe(made, "en"), describe(made, "ja")
    assert english and japanese
    if event.type != "note":  # a note is the participant's own words in both
        assert english != japanese
        # the Japanese sentence is ours in Japanese: only names from the record stay Latin
        leftovers = set(re.findall(r"[a-z]{4,}", japanese)) - _record_words(event)
        assert leftovers == set(), japanese


def _record_words(event: ev.Event) -> set[str]:
    return set(re.findall(r"[a-z]{4,}", event.model_dump_json()))


def test_a_partial_send_is_never_shown_as_sent() -> None:
    made = entry(ev.Notification(notice="n1", sender="bob", failed=["x@example.com"]))
    assert made.status == "partial"
    assert "only in part" in describe(made, "en")
    assert "一部のみ送信" in describe(made, "ja")


def test_marks_keep_who_produced_them_and_imports_are_labelled_import() -> None:
    assert entry(ev.Milestone(name="x", actor="a", source="simulated")).provenance == "simulated"
    assert entry(ev.Notification(sender="bob")).provenance == "notice"
    assert entry(ev.FaultInjected(fault="f"), imported=True).provenance == "import"


def test_provenance_of_drills_from_their_record() -> None:
    scaled = ev.DrillStarted(drill="d", scenario_id="s", duration=60, clock="scaled", speed=40)
    fault = ev.FaultInjected(fault="f")
    sim = ev.Milestone(name="detected", actor="sim", source="simulated")
    live = drill_provenance([scaled, fault, sim])
    assert (live.kind, live.clock, live.speed, live.simulated) == ("live", "scaled", 40, True)
    virtual = ev.DrillStarted(drill="d", scenario_id="s", duration=60, clock="virtual", speed=0)
    assert drill_provenance([virtual]).kind == "tabletop"
    assert drill_provenance([virtual]).clock == "virtual"
    imported = ev.DrillStarted(drill="d", scenario_id="s", duration=60, source="import")
    assert drill_provenance([imported, fault]).kind == "import"


def test_the_fields_only_some_events_have_are_in_the_json_only_when_the_event_had_them() -> None:
    stage = entry(ev.LoadStage(users=10, spawn_rate=2.5)).model_dump()
    assert stage["spawn_rate"] == 2.5
    assert "p95_ms" not in stage and "sender" not in stage and "late" not in stage
    notice = entry(ev.Notification(notice="n1", sender="bob", delivered=3, captured=1))
    assert (notice.recorded_status, notice.sender, notice.delivered, notice.captured) == (
        "sent",
        "bob",
        3,
        1,
    )
    moved = entry(ev.Amendment(target_seq=7, new_at=90, late=True))
    assert (moved.refers_to, moved.late, moved.model_dump()["late"]) == (7, True, True)
    inject = entry(ev.Inject(kind="inquiry", to=["sre", "support"]))
    assert (inject.to, inject.to_roles) == ("sre, support", ["sre", "support"])
