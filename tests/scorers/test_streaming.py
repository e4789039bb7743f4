"""The streaming scorer gives the scorecard the scorer gave when it held the whole record.

``tests/scorers/oracle`` is the scorer as it was before it streamed (every event a model,
sorted, read by each section). Hypothesis draws varied records (events out of drill-time
order, ties, amendments of real, missing and amendment targets, late marks, imports, runbook
restarts, alerts by identity, notices through every status, probes flapping, no end at all)
and each is scored three ways: the oracle, ``score`` over the list, and ``score`` streaming
the record's file line by line. All three must be the same scorecard, and the HTML report
drawn from the slim marks must be the one drawn from the full timeline.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kunren.record import events as ev
from kunren.record.stream import amendments_in, iter_events
from kunren.reports.render import render
from kunren.scenarios.models import Scenario
from kunren.scorers import score
from tests.scorers.helpers import scenario
from tests.scorers.oracle.score import score as oracle_score

SCENARIO = scenario(
    t0="first_fault",
    targets={"web": {"process": {"service": "web"}}},
    faults=[{"id": "kill-web", "at": "1m", "kind": "process.kill", "target": "web"}],
    runbooks=[
        {"id": "restart-web", "title": "Restart web", "kind": "process.restart", "target": "web"}
    ],
    probes=[{"id": "health", "http": {"url": "http://127.0.0.1:1/"}}],
    injects=[{"at": "5m", "kind": "announcement", "text": "status page is slow"}],
    notifications={"checklist": ["affected", "next_update"]},
    objectives={
        "detected": {"within": "5m"},
        "triaged": {"within": "15m", "by": ["sre", "commander"]},
        "customer_notified": {"within": "30m", "by": "support"},
    },
)
IMPACT = SCENARIO.model_copy(update={"t0": "impact"})

TIMES = st.sampled_from([0.0, 30.0, 60.0, 60.5, 300.0, 600.0, 900.0, 1800.0, 3600.0, 4000.0])
ACTORS = st.sampled_from(["ann", "bob", "carol"])
ROLES = st.sampled_from([None, "sre", "support", "commander", "engineer"])
FAULTS = st.sampled_from(["kill-web", "runbook:restart-web", "unplanned"])
PROBES = st.sampled_from(["health", "search"])


def _fault_events() -> st.SearchStrategy[ev.Event]:
    return st.one_of(
        st.builds(
            ev.FaultInjecting,
            fault=FAULTS,
            kind=st.just("process.kill"),
            target=st.sampled_from([None, "web"]),
            runbook=st.sampled_from([None, "restart-web"]),
        ),
        st.builds(
            ev.FaultInjected,
            fault=FAULTS,
            kind=st.just("process.kill"),
            targets=st.lists(st.just("web-1"), max_size=1),
            revert=st.sampled_from([None, {"pid": 1}]),
        ),
        st.builds(ev.FaultReverted, fault=FAULTS),
        st.builds(ev.FaultFailed, fault=FAULTS, error=st.just("boom")),
        st.builds(ev.FaultRevertFailed, fault=FAULTS, error=st.just("stuck")),
        st.builds(ev.ServiceStarted, name=st.sampled_from(["web", "db"]), pid=st.just(42)),
        st.builds(ev.ProbeFailed, probe=PROBES, detail=st.just("status 500")),
        st.builds(ev.ProbeRecovered, probe=PROBES),
        st.builds(ev.LoadStage, users=st.sampled_from([0, 20, 200]), spawn_rate=st.just(5.0)),
        st.builds(
            ev.LoadStats,
            users=st.sampled_from([20, 200]),
            rps=st.sampled_from([0.0, 12.5]),
            p95_ms=st.sampled_from([None, 80.0]),
        ),
    )


def _people_events() -> st.SearchStrategy[ev.Event]:
    return st.one_of(
        st.builds(
            ev.Alert,
            name=st.sampled_from(["api-5xx", "latency"]),
            status=st.sampled_from(["firing", "resolved", "acknowledged"]),
            identity=st.sampled_from(["", "fp-1", "fp-2"]),
            fingerprint=st.sampled_from([None, "fp-9"]),
        ),
        st.builds(
            ev.Milestone,
            name=st.sampled_from(["detected", "triaged", "customer_notified", "mitigated", "own"]),
            actor=ACTORS,
            role=ROLES,
            source=st.sampled_from(["participant", "facilitator", "simulated", "import"]),
            late=st.booleans(),
        ),
        st.builds(
            ev.Notification,
            notice=st.sampled_from(["", "n1", "n2"]),
            status=st.sampled_from(["drafted", "approved", "sent", "failed", "rejected"]),
            sender=st.sampled_from(["", "bob", "carol"]),
            role=ROLES,
            approver=st.sampled_from([None, "dave"]),
            recipients=st.sampled_from([0, 3]),
            failed=st.lists(st.just("x@example.com"), max_size=1),
            lacking=st.lists(st.just("affected"), max_size=1),
            next_update_at=st.sampled_from([None, 900.0, 2000.0]),
        ),
        st.builds(
            ev.Runbook,
            runbook=st.sampled_from(["restart-web", "scale-up"]),
            actor=ACTORS,
            role=ROLES,
            result=st.sampled_from(["ok", "failed", "refused"]),
        ),
        st.builds(
            ev.Readiness,
            actor=ACTORS,
            role=st.just("support"),
            tool=st.just("mail"),
            ok=st.booleans(),
        ),
        st.builds(ev.ParticipantJoined, actor=ACTORS, role=st.sampled_from(["sre", "support"])),
        st.builds(
            ev.Note,
            text=st.sampled_from(["looking", " action: fix the page ", "ok"]),
            actor=st.sampled_from(["", "ann"]),
        ),
        st.builds(
            ev.Inject,
            kind=st.sampled_from(["announcement", "inquiry"]),
            text=st.sampled_from(["status page is slow", "why is it down?"]),
        ),
        st.builds(ev.DrillResumed),
    )


@st.composite
def records(draw: st.DrawFn) -> list[ev.Event]:
    """A drill record: drill.started first (or not), a body in any drill-time order, maybe
    amendments, maybe an end; seqs 1, 2, … in file order."""
    body: list[ev.Event] = []
    if draw(st.integers(0, 9)) > 0:  # now and then a record without its start
        body.append(
            ev.DrillStarted(
                drill="d1",
                scenario_id="web-outage",
                duration=3600.0,
                source=draw(st.sampled_from(["conductor", "import"])),
                clock=draw(st.sampled_from(["real", "scaled", "virtual"])),
                speed=draw(st.sampled_from([1.0, 40.0, 0.0])),
            )
        )
    for _ in range(draw(st.integers(0, 4))):  # people joining, some twice in other roles
        role = draw(st.sampled_from(["sre", "support", "commander"]))
        body.append(ev.ParticipantJoined(at=draw(TIMES), actor=draw(ACTORS), role=role))
    kinds = st.one_of(_fault_events(), _people_events())
    for event in draw(st.lists(kinds, max_size=40)):
        body.append(event.model_copy(update={"at": draw(TIMES)}))
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.integers(1, len(body) + 2))
        body.insert(
            draw(st.integers(0, len(body))),
            ev.Amendment(target_seq=target, new_at=draw(TIMES), reason="typed late"),
        )
    ending = draw(st.sampled_from(["ended", "aborted", "running"]))
    if ending == "ended":
        body.append(ev.DrillEnded(at=draw(TIMES)))
    elif ending == "aborted":
        body.append(ev.DrillAborted(at=draw(TIMES), reason="stop condition"))
    return [e.model_copy(update={"seq": n}) for n, e in enumerate(body, start=1)]


def _write(folder: Path, events: list[ev.Event]) -> Path:
    path = folder / "events.jsonl"
    path.write_text("".join(e.model_dump_json() + "\n" for e in events), encoding="utf-8")
    return path


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=records(), which=st.sampled_from([SCENARIO, IMPACT]))
def test_the_streaming_scorer_gives_the_scorecard_of_the_whole_record(
    tmp_path: Path, events: list[ev.Event], which: Scenario
) -> None:
    expected = oracle_score(which, events)
    assert score(which, events) == expected
    path = _write(tmp_path, events)
    streamed = score(which, iter_events(path), amendments=amendments_in(path))
    assert streamed == expected
    assert streamed.model_dump_json() == expected.model_dump_json()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=records(), lang=st.sampled_from(["en", "ja"]))
def test_the_report_drawn_from_marks_is_the_report_drawn_from_the_timeline(
    events: list[ev.Event], lang: str
) -> None:
    full = score(SCENARIO, events)
    lean = score(SCENARIO, events, timeline="marks")
    assert lean.timeline == []
    assert [e.seq for e in lean.entries()] == [e.seq for e in full.timeline]
    assert render(lean, "html", lang) == render(full, "html", lang)
    assert render(lean, "md", lang) == render(full, "md", lang)


def test_without_its_amendments_up_front_a_streamed_record_is_scored_as_a_list() -> None:
    events: list[ev.Event] = [
        ev.DrillStarted(seq=1, drill="d1", scenario_id="web-outage", duration=3600.0),
        ev.FaultInjected(seq=2, at=60, fault="kill-web"),
        ev.Milestone(seq=3, at=400, name="detected", actor="ann", role="sre"),
        ev.Amendment(seq=4, target_seq=3, new_at=200),
        ev.DrillEnded(seq=5, at=3600),
    ]
    card = score(SCENARIO, iter(events))
    assert card.milestones["detected"].seconds == 140
    assert card.milestones["detected"].recorded_seconds == 340
    assert card == oracle_score(SCENARIO, events)
