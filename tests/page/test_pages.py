"""The participant and facilitator routes over HTTP: what each click records."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kunren.record.events import Alert, Inject, Milestone, ProbeFailed, ProbeRecovered
from tests.page.conftest import SCENARIO, Browserless, LiveDrill, make_drill, stop_drill


def test_joining_records_the_participant_once_with_drill_time(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    drill.clock.advance(95)
    aiko = session_for()
    assert aiko.join("  Aiko   Tanaka ", "support").json()["ok"] is True
    assert aiko.join("Aiko Tanaka", "support").status_code == 200  # joining again: no new event
    joined = drill.of_type("participant.joined")
    assert [(e.actor, e.role, e.at) for e in joined] == [("Aiko Tanaka", "support", 95.0)]
    page = aiko.http.get("/")
    assert "I noticed a problem" in page.text and "Status page admin" in page.text


def test_a_milestone_click_is_recorded_at_once_and_a_double_click_records_once(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    ben = session_for()
    ben.join("Ben", "sre")
    drill.clock.advance(300)
    first = ben.post("/milestone", {"milestone": "detected", "note": "5xx on /search", "key": "k1"})
    again = ben.post("/milestone", {"milestone": "detected", "note": "5xx on /search", "key": "k1"})
    later = ben.post("/milestone", {"milestone": "detected", "key": "k2"})
    assert first.json() == again.json()
    assert first.json()["message"] == "Recorded at T+05:00"
    assert later.json()["message"] == "Already recorded at T+05:00"
    milestones = drill.of_type("milestone")
    assert [(m.name, m.actor, m.role, m.source, m.at, m.note) for m in milestones] == [
        ("detected", "Ben", "sre", "participant", 300.0, "5xx on /search")
    ]


def test_a_milestone_outside_the_role_or_before_joining_is_refused(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    scenario = drill.control.scenario.model_copy(update={"roles": {**drill.control.scenario.roles}})
    assert "nonsense" not in scenario.milestones_for_role("sre")
    anon = session_for()
    assert anon.post("/milestone", {"milestone": "detected"}).status_code == 409
    anon.join("Ben", "sre")
    refused = anon.post("/milestone", {"milestone": "nonsense"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "That milestone is not one of your role's."
    assert drill.of_type("milestone") == []


def test_a_known_milestone_of_another_role_is_refused_with_the_roles_own_list(
    tmp_path: Path,
) -> None:
    roles = {**SCENARIO["roles"], "support": {**SCENARIO["roles"]["support"]}}
    roles["support"]["milestones"] = ["detected", "customer_notified"]
    live = make_drill(tmp_path, {**SCENARIO, "roles": roles})
    aiko = Browserless(live, live.ptoken)
    try:
        aiko.join("Aiko", "support")
        page = aiko.http.get("/").text
        assert "Customers notified" in page and "Triaged" not in page  # only her buttons
        refused = aiko.post("/milestone", {"milestone": "triaged"})
        assert refused.status_code == 403
        assert refused.json()["error"] == (
            "Your role (Support) cannot mark “Triaged”. "
            "Your role's milestones: I noticed a problem, Customers notified. "
            "The facilitator can record it for you."
        )
        in_ja = aiko.post("/milestone", {"milestone": "triaged"}, **{"Accept-Language": "ja"})
        assert in_ja.status_code == 403
        assert in_ja.json()["error"].startswith("あなたの役割（")
        assert "「" in in_ja.json()["error"] and "ファシリテーター" in in_ja.json()["error"]
        assert live.of_type("milestone") == []
        assert aiko.post("/milestone", {"milestone": "detected"}).status_code == 200
        assert [m.name for m in live.of_type("milestone")] == ["detected"]
    finally:
        aiko.close()
        stop_drill(live)


def test_the_facilitator_marks_any_milestone_for_anyone_whatever_their_roles_list(
    tmp_path: Path,
) -> None:
    roles = {**SCENARIO["roles"], "support": {**SCENARIO["roles"]["support"]}}
    roles["support"]["milestones"] = ["detected", "customer_notified"]
    live = make_drill(tmp_path, {**SCENARIO, "roles": roles})
    facilitator = Browserless(live, live.ftoken, "/facilitator")
    try:
        page = facilitator.http.get("/facilitator").text
        assert "Mark a milestone for someone" in page and '<option value="triaged">' in page
        live.clock.advance(200)
        form = {"milestone": "triaged", "role": "support", "person": "Aiko", "key": "m1"}
        reply = facilitator.post("/facilitator/mark", {**form, "note": "told me by phone"})
        again = facilitator.post("/facilitator/mark", form)  # a double click
        assert reply.status_code == 200, reply.text
        assert reply.json()["message"] == "Recorded for Aiko at T+03:20"
        assert again.json() == reply.json()
        bad_role = facilitator.post("/facilitator/mark", {**form, "role": "dba", "key": "m2"})
        assert bad_role.status_code == 400
        unknown = facilitator.post("/facilitator/mark", {**form, "milestone": "x", "key": "m3"})
        assert unknown.status_code == 400
        marks = live.of_type("milestone")
        assert [(m.name, m.actor, m.role, m.source, m.note, m.at) for m in marks] == [
            ("triaged", "Aiko", "support", "facilitator", "told me by phone", 200.0)
        ]
        participant = Browserless(live, live.ptoken)
        try:
            refused = participant.post("/facilitator/mark", form)
            assert refused.status_code in (401, 403)  # the participant token cannot
        finally:
            participant.close()
        in_ja = facilitator.http.get("/facilitator", params={"lang": "ja"}).text
        assert "代理でマイルストーンを記録" in in_ja
    finally:
        facilitator.close()
        stop_drill(live)


def test_running_a_runbook_kills_the_process_and_records_the_result(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    ben = session_for()
    ben.join("Ben", "sre")
    drill.clock.advance(420)
    reply = ben.post("/runbook", {"runbook": "stop-worker", "key": "r1"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["result"] == "ok"
    assert drill.worker.wait(5) == -9
    again = ben.post("/runbook", {"runbook": "stop-worker", "key": "r1"})
    assert again.json() == reply.json()
    runbooks = drill.of_type("runbook")
    assert [(r.runbook, r.actor, r.role, r.result, r.at) for r in runbooks] == [
        ("stop-worker", "Ben", "sre", "ok", 420.0)
    ]
    assert drill.runner.calls == ["stop-worker"]


def test_a_runbook_for_other_roles_is_neither_shown_nor_run(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    aiko = session_for()
    aiko.join("Aiko", "support")
    assert "Restart the shop" not in aiko.http.get("/").text
    refused = aiko.post("/runbook", {"runbook": "restart-shop"})
    assert refused.status_code == 403
    assert drill.of_type("runbook") == [] and drill.runner.calls == []


def test_readiness_answers_are_recorded_and_shown_to_the_facilitator(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    aiko = session_for()
    aiko.join("Aiko", "support")
    aiko.post("/readiness", {"tool": "Status page admin", "ok": "yes"})
    aiko.post("/readiness", {"tool": "Status page admin", "ok": "yes"})  # same answer: once
    aiko.post("/readiness", {"tool": "Customer mail tool", "ok": "no", "note": "no account"})
    assert aiko.post("/readiness", {"tool": "Grafana", "ok": "yes"}).status_code == 400
    answers = [(r.actor, r.role, r.tool, r.ok, r.note) for r in drill.of_type("readiness")]
    assert answers == [
        ("Aiko", "support", "Status page admin", True, ""),
        ("Aiko", "support", "Customer mail tool", False, "no account"),
    ]
    facilitator = Browserless(drill, drill.ftoken, "/facilitator")
    people = facilitator.http.get("/api/timeline").json()["participants"]
    assert people == [
        {
            "key": "support:Aiko",  # what a pushed update of this row is matched by
            "actor": "Aiko",
            "role": "Support",  # the role as people read it, in the page's language
            "joined": "00:00",
            "tools": "cannot open: Customer mail tool",
        }
    ]
    facilitator.close()


def test_the_page_shows_only_the_injects_addressed_to_the_role(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    drill.control.record(Inject(kind="inquiry", text="Booking page shows an error", to=["support"]))
    drill.control.record(Inject(kind="announcement", text="Deploys are frozen"))
    drill.control.record(Inject(kind="announcement", text="SRE bridge opened", to=["sre"]))
    drill.control.record(Inject(kind="unavailable", who="alice", to=["support"]))
    aiko = session_for()
    aiko.join("Aiko", "support")
    state = aiko.http.get("/api/state").json()
    assert [(i["kind"], i["text"]) for i in state["injects"]] == [
        ("unavailable", "alice cannot be reached for now."),
        ("announcement", "Deploys are frozen"),
        ("inquiry", "Booking page shows an error"),
    ]
    assert "SRE bridge opened" not in aiko.http.get("/").text


def test_the_facilitator_amends_a_time_and_the_timeline_shows_it(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    ben = session_for()
    ben.join("Ben", "sre")
    drill.clock.advance(600)
    seq = ben.post("/milestone", {"milestone": "triaged"}).json()["seq"]
    facilitator = session_for(drill.ftoken, "/facilitator")
    bad = facilitator.post("/facilitator/amend", {"seq": "999", "at": "8:00"})
    assert bad.status_code == 400
    assert (
        facilitator.post("/facilitator/amend", {"seq": str(seq), "at": "soon"}).status_code == 400
    )
    done = facilitator.post(
        "/facilitator/amend",
        {"seq": str(seq), "at": "8:00", "reason": "clicked late", "actor": "Kim"},
    )
    assert done.json()["message"] == f"Event #{seq} amended to T+08:00"
    (amendment,) = drill.of_type("amendment")
    assert (amendment.target_seq, amendment.new_at, amendment.actor, amendment.reason) == (
        seq,
        480.0,
        "Kim",
        "clicked late",
    )
    rows = {r["seq"]: r for r in facilitator.http.get("/api/timeline").json()["events"]}
    assert rows[seq]["amended"] == "amended to T+08:00"
    assert rows[seq]["detail"] == "Ben (SRE): Triaged (on the page)"
    assert rows[seq]["kind"] == "Milestone"
    ja = facilitator.http.get("/api/timeline", params={"lang": "ja"}).json()["events"]
    line = next(r for r in ja if r["seq"] == seq)
    assert (line["kind"], line["detail"]) == (
        "マイルストーン",
        "Ben(SRE): 切り分けた(参加者のページ)",
    )


def test_abort_needs_confirmation_and_then_stops_the_drill(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    ben = session_for()
    ben.join("Ben", "sre")
    facilitator = session_for(drill.ftoken, "/facilitator")
    assert facilitator.post("/facilitator/abort", {"reason": "real incident"}).status_code == 400
    assert drill.of_type("drill.aborted") == []
    ok = facilitator.post("/facilitator/abort", {"reason": "real incident", "confirm": "yes"})
    assert ok.json()["message"] == "Abort requested."
    (aborted,) = drill.of_type("drill.aborted")
    assert aborted.reason == "real incident (by facilitator)"
    late = ben.post("/milestone", {"milestone": "resolved"})
    assert late.status_code == 409
    assert not [e for e in drill.events() if isinstance(e, Milestone)]
    state = ben.http.get("/api/state").json()
    assert state["ended"] == "The drill was aborted: real incident (by facilitator)"


def test_pages_speak_japanese_by_query_cookie_or_browser(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    aiko = session_for()
    aiko.join("Aiko", "support")
    assert "異常に気づいた" in aiko.http.get("/", params={"lang": "ja"}).text
    assert "異常に気づいた" in aiko.http.get("/").text  # remembered in a cookie
    assert "I noticed a problem" in aiko.http.get("/", params={"lang": "en"}).text
    ben = session_for()
    ben.http.cookies.delete("kunren_lang")
    page = ben.http.get("/", headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"})
    assert "訓練に参加" in page.text and 'lang="ja"' in page.text


def test_a_plain_form_without_script_redirects_back_with_the_acknowledgement(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    ben = session_for()
    ben.join("Ben", "sre")
    drill.clock.advance(61)
    reply = ben.post("/milestone", {"milestone": "escalated"}, Accept="text/html")
    assert reply.status_code == 303 and reply.headers["location"] == "/"
    page = ben.http.get("/")
    assert "Recorded at T+01:01" in page.text


def test_the_state_says_what_is_failing_now_and_when_the_drill_time_is_over(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    ben = session_for()
    ben.join("Ben", "sre")
    drill.control.record(ProbeFailed(probe="shop-health", detail="HTTP 500"))
    drill.control.record(Alert(source="alertmanager", name="ShopDown"))
    state = ben.http.get("/api/state").json()
    assert (state["failing"], state["over"]) == ("Failing now: shop-health, ShopDown", False)
    drill.control.record(ProbeRecovered(probe="shop-health"))
    drill.clock.advance(3600)
    state = ben.http.get("/api/state", params={"lang": "ja"}).json()
    assert state["failing"] == "現在うまく動いていないもの: ShopDown"
    assert state["over"] is True and state["ended"] is None  # over, but not yet recorded
