"""Alert intake: the payloads from Alertmanager's and PagerDuty's documentation, and plain JSON."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kunren.page import AppOptions, intake
from kunren.record.events import DrillEnded
from tests.page.conftest import Browserless, LiveDrill, make_drill, stop_drill

INTAKE_TOKEN = "intake-token-" + "i" * 20


@pytest.fixture
def drill(tmp_path: Path) -> Iterator[LiveDrill]:
    """The page's drill with an intake token: only that token posts alerts here."""
    live = make_drill(tmp_path, options=AppOptions(poll_seconds=0.2, intake_token=INTAKE_TOKEN))
    try:
        yield live
    finally:
        stop_drill(live)


# Alertmanager's webhook body, version 4, as in its documentation's example.
ALERTMANAGER_FIRING: dict[str, Any] = {
    "receiver": "kunren",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "ProbeFailure",
                "instance": "https://server.example.org",
                "job": "http_checks",
                "monitor": "master",
                "severity": "critical",
            },
            "annotations": {
                "description": "Instance https://server.example.org has been down for over 5m.",
                "summary": "BlackBox Probe Failure: https://server.example.org",
            },
            "startsAt": "2023-02-06T13:08:45.828Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0",
            "fingerprint": "1a30ba71cca2921f",
        }
    ],
    "groupLabels": {"alertname": "ProbeFailure"},
    "commonLabels": {"alertname": "ProbeFailure", "severity": "critical"},
    "commonAnnotations": {},
    "externalURL": "http://prometheus.example.org:9093",
    "version": "4",
    "groupKey": '{}/{severity="critical"}:{alertname="ProbeFailure"}',
    "truncatedAlerts": 0,
}

# PagerDuty's v3 webhook body, as in its documentation's example (an incident event).
PAGERDUTY_EVENT: dict[str, Any] = {
    "event": {
        "id": "5ac64822-4adc-4fda-ade0-410becf0de4f",
        "event_type": "incident.triggered",
        "resource_type": "incident",
        "occurred_at": "2020-10-02T18:45:22.169Z",
        "agent": {
            "html_url": "https://acme.pagerduty.com/users/PLH1HKV",
            "id": "PLH1HKV",
            "self": "https://api.pagerduty.com/users/PLH1HKV",
            "summary": "Tenex Engineer",
            "type": "user_reference",
        },
        "client": {"name": "PagerDuty"},
        "data": {
            "id": "PGR0VU2",
            "type": "incident",
            "self": "https://api.pagerduty.com/incidents/PGR0VU2",
            "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
            "number": 2,
            "status": "triggered",
            "incident_key": "d3640fbd41094207a1c11e58e46b1662",
            "created_at": "2020-04-09T15:16:27Z",
            "title": "A little bump in the road",
            "service": {
                "html_url": "https://acme.pagerduty.com/services/PF9KMXH",
                "id": "PF9KMXH",
                "self": "https://api.pagerduty.com/services/PF9KMXH",
                "summary": "API Service",
                "type": "service_reference",
            },
            "assignees": [
                {
                    "html_url": "https://acme.pagerduty.com/users/PTUXL6G",
                    "id": "PTUXL6G",
                    "self": "https://api.pagerduty.com/users/PTUXL6G",
                    "summary": "User 123",
                    "type": "user_reference",
                }
            ],
            "urgency": "high",
            "conference_bridge": {"conference_number": "+1 1234123412,,987654321#"},
            "resolve_reason": None,
        },
    }
}


def pagerduty(event_type: str, status: str) -> dict[str, Any]:
    body = copy.deepcopy(PAGERDUTY_EVENT)
    body["event"]["event_type"] = event_type
    body["event"]["data"]["status"] = status
    return body


def post(drill: LiveDrill, source: str, body: Any, **headers: str) -> Any:
    with drill.client() as http:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers.setdefault("Authorization", f"Bearer {INTAKE_TOKEN}")
        return http.post(
            f"/intake/{source}",
            content=content,
            headers={"Content-Type": "application/json", **headers},
        )


def alerts(drill: LiveDrill) -> list[tuple[str, str, str, str | None]]:
    return [(a.source, a.name, a.status, a.actor) for a in drill.of_type("alert")]


def test_alertmanager_firing_and_resolved_are_recorded_once_each(drill: LiveDrill) -> None:
    drill.clock.advance(250)
    assert post(drill, "alertmanager", ALERTMANAGER_FIRING).json() == {
        "recorded": 1,
        "unchanged": 0,
    }
    repeat = post(drill, "alertmanager", ALERTMANAGER_FIRING)  # repeat_interval resends it
    assert repeat.json() == {"recorded": 0, "unchanged": 1}
    drill.clock.advance(600)
    resolved = copy.deepcopy(ALERTMANAGER_FIRING)
    resolved["status"] = resolved["alerts"][0]["status"] = "resolved"
    assert post(drill, "alertmanager", resolved).json()["recorded"] == 1
    assert alerts(drill) == [
        ("alertmanager", "ProbeFailure", "firing", None),
        ("alertmanager", "ProbeFailure", "resolved", None),
    ]
    assert [a.at for a in drill.of_type("alert")] == [250.0, 850.0]
    assert drill.of_type("milestone") == []


def test_pagerduty_acknowledgement_is_the_acknowledged_milestone_of_who_acked(
    drill: LiveDrill,
) -> None:
    tenex = Browserless(drill, drill.ptoken)
    tenex.join("Tenex Engineer", "sre")
    tenex.close()
    drill.clock.advance(100)
    assert post(drill, "pagerduty", pagerduty("incident.triggered", "triggered")).status_code == 200
    drill.clock.advance(80)
    post(drill, "pagerduty", pagerduty("incident.acknowledged", "acknowledged"))
    drill.clock.advance(900)
    post(drill, "pagerduty", pagerduty("incident.resolved", "resolved"))
    ignored = post(drill, "pagerduty", pagerduty("incident.priority_updated", "triggered"))
    assert ignored.json() == {"recorded": 0, "unchanged": 0}
    title = "A little bump in the road"
    assert alerts(drill) == [
        ("pagerduty", title, "firing", "Tenex Engineer"),
        ("pagerduty", title, "acknowledged", "Tenex Engineer"),
        ("pagerduty", title, "resolved", "Tenex Engineer"),
    ]
    (ack,) = drill.of_type("milestone")
    assert (ack.name, ack.actor, ack.role, ack.source, ack.at) == (
        "acknowledged",
        "Tenex Engineer",
        "sre",
        "alert",
        180.0,
    )


def test_generic_json_with_an_actor_records_the_alert_and_the_acknowledgement(
    drill: LiveDrill,
) -> None:
    assert post(drill, "generic", {"name": "checkout 5xx", "status": "firing"}).status_code == 200
    post(drill, "generic", {"name": "checkout 5xx", "status": "ack", "actor": "Aiko"})
    post(drill, "generic", {"name": "checkout 5xx", "status": "acknowledged", "actor": "Aiko"})
    assert alerts(drill) == [
        ("generic", "checkout 5xx", "firing", None),
        ("generic", "checkout 5xx", "acknowledged", "Aiko"),
    ]
    (ack,) = drill.of_type("milestone")
    assert (ack.actor, ack.role, ack.source, ack.note) == (
        "Aiko",
        None,
        "alert",
        "generic: checkout 5xx",
    )


@pytest.mark.parametrize(
    ("source", "body", "message"),
    [
        ("generic", b"{not json", "Invalid JSON"),
        ("generic", {"status": "firing"}, "name: Field required"),
        ("generic", {"name": "x", "status": "exploded"}, "status must be firing"),
        ("alertmanager", {"status": "firing"}, "alerts: Field required"),
        ("alertmanager", {"alerts": [{"status": "weird"}]}, "firing or resolved"),
        ("pagerduty", {"event": {}}, "event.event_type: Field required"),
        ("nagios", {"name": "x"}, "unknown alert source"),
    ],
)
def test_a_payload_that_is_not_what_the_endpoint_accepts_is_refused(
    drill: LiveDrill, source: str, body: Any, message: str
) -> None:
    reply = post(drill, source, body)
    assert reply.status_code in (400, 404)
    assert message in reply.json()["error"]
    assert alerts(drill) == []


def test_the_token_may_come_in_the_query_or_a_header_but_never_from_a_cookie(
    drill: LiveDrill,
) -> None:
    body = {"name": "disk full", "status": "firing"}
    assert post(drill, "generic", body, Authorization="").status_code == 401
    assert post(drill, "generic", body, **{"X-Kunren-Token": INTAKE_TOKEN}).status_code == 200
    with drill.client() as http:
        http.cookies.set(f"kunren_p_{_suffix(drill)}", drill.ptoken)
        assert http.post("/intake/generic", json=body).status_code == 401
        query = http.post("/intake/generic", params={"token": INTAKE_TOKEN}, json=body)
        assert query.status_code == 200


def _suffix(drill: LiveDrill) -> str:
    from kunren.page.security import cookie_suffix

    return cookie_suffix(drill.control.drill_id)


def test_alerts_after_the_drill_ended_are_accepted_but_not_recorded(drill: LiveDrill) -> None:
    drill.control.record(DrillEnded())
    reply = post(drill, "generic", {"name": "late", "status": "firing"})
    assert reply.status_code == 200 and reply.json()["recorded"] == 0
    assert alerts(drill) == []


@pytest.fixture
def signed(tmp_path: Path) -> Iterator[LiveDrill]:
    options = AppOptions(pagerduty_secret="whsec-test", intake_token=INTAKE_TOKEN)
    live = make_drill(tmp_path, options=options)
    try:
        yield live
    finally:
        stop_drill(live)


def test_a_pagerduty_secret_also_requires_a_valid_signature(signed: LiveDrill) -> None:
    body = json.dumps(pagerduty("incident.triggered", "triggered")).encode()
    good = "v1=" + hmac.new(b"whsec-test", body, hashlib.sha256).hexdigest()
    assert post(signed, "pagerduty", body).status_code == 401
    assert post(signed, "pagerduty", body, **{"X-PagerDuty-Signature": "v1=00"}).status_code == 401
    rotated = f"v1=deadbeef,{good}"
    assert post(signed, "pagerduty", body, **{"X-PagerDuty-Signature": rotated}).status_code == 200
    assert len(signed.of_type("alert")) == 1


def test_alert_names_are_cleaned_and_capped() -> None:
    long_name = "<b>" + "x" * 500 + "\x00\x1b"
    (item,) = intake.parse_generic(json.dumps({"name": long_name, "status": "OK"}).encode())
    assert item.status == "resolved"
    assert len(item.name) == intake.MAX_ALERT_NAME and item.name.startswith("<b>x")
    assert "\x00" not in item.name


# ---------------------------------------------------------------------- identities

FIXTURES = Path(__file__).parent.parent / "fixtures" / "alerts"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def am_alert(instance: str, status: str, fingerprint: str, starts: str) -> dict[str, Any]:
    alert: dict[str, Any] = copy.deepcopy(ALERTMANAGER_FIRING["alerts"][0])
    alert["labels"]["instance"] = instance
    alert.update(status=status, fingerprint=fingerprint, startsAt=starts)
    if status == "resolved":
        alert["endsAt"] = "2023-02-06T13:20:00Z"
    return alert


def am_group(*alerts: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(ALERTMANAGER_FIRING)
    body["alerts"] = list(alerts)
    body["status"] = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return body


def states(drill: LiveDrill) -> list[tuple[str, str, str]]:
    return [(a.name, a.labels.get("instance", ""), a.status) for a in drill.of_type("alert")]


def test_two_instances_of_one_alert_are_two_identities_whatever_the_payload_order(
    drill: LiveDrill,
) -> None:
    a = am_alert("web-1", "firing", "aaaa000000000001", "2023-02-06T13:08:45Z")
    b = am_alert("web-2", "firing", "bbbb000000000002", "2023-02-06T13:09:45Z")
    assert post(drill, "alertmanager", am_group(a, b)).json() == {"recorded": 2, "unchanged": 0}
    a_resolved = am_alert("web-1", "resolved", "aaaa000000000001", "2023-02-06T13:08:45Z")
    # the group resent with web-1 resolved first and web-2 still firing second, then reversed
    assert post(drill, "alertmanager", am_group(a_resolved, b)).json()["recorded"] == 1
    assert post(drill, "alertmanager", am_group(b, a_resolved)).json()["recorded"] == 0
    assert states(drill) == [
        ("ProbeFailure", "web-1", "firing"),
        ("ProbeFailure", "web-2", "firing"),
        ("ProbeFailure", "web-1", "resolved"),
    ]
    first, _second, resolved = drill.of_type("alert")
    assert (first.identity, first.fingerprint) == ("aaaa000000000001", "aaaa000000000001")
    assert first.starts_at == "2023-02-06T13:08:45Z" and first.ends_at is None
    assert resolved.ends_at == "2023-02-06T13:20:00Z"
    assert first.url == ALERTMANAGER_FIRING["alerts"][0]["generatorURL"]
    assert first.labels["severity"] == "critical"
    # the virtual clock has no real lag to measure
    assert first.lag is None


def test_a_late_copy_of_a_resolved_episode_does_not_fire_again(drill: LiveDrill) -> None:
    firing = am_alert("web-1", "firing", "cccc000000000003", "2023-02-06T13:08:45Z")
    resolved = am_alert("web-1", "resolved", "cccc000000000003", "2023-02-06T13:08:45Z")
    post(drill, "alertmanager", am_group(firing))
    post(drill, "alertmanager", am_group(resolved))
    assert post(drill, "alertmanager", am_group(firing)).json()["recorded"] == 0
    again = am_alert("web-1", "firing", "cccc000000000003", "2023-02-06T14:00:00Z")
    assert post(drill, "alertmanager", am_group(again)).json()["recorded"] == 1


def test_without_a_fingerprint_the_sorted_label_set_is_the_identity(drill: LiveDrill) -> None:
    one = am_alert("web-1", "firing", "", "2023-02-06T13:08:45Z")
    two = am_alert("web-2", "firing", "", "2023-02-06T13:08:45Z")
    reordered = copy.deepcopy(one)
    reordered["labels"] = dict(reversed(list(one["labels"].items())))
    assert post(drill, "alertmanager", am_group(one, two, reordered)).json() == {
        "recorded": 2,
        "unchanged": 1,
    }
    identities = {a.identity for a in drill.of_type("alert")}
    assert len(identities) == 2 and all(i.startswith("labels:") for i in identities)


def test_a_renamed_pagerduty_incident_still_resolves_and_same_titles_stay_apart(
    drill: LiveDrill,
) -> None:
    post(drill, "pagerduty", pagerduty("incident.triggered", "triggered"))
    other = pagerduty("incident.triggered", "triggered")
    other["event"]["data"]["id"] = "PXXXXX9"
    post(drill, "pagerduty", other)
    renamed = pagerduty("incident.resolved", "resolved")
    renamed["event"]["data"]["title"] = "Checkout down (root cause: DNS)"
    assert post(drill, "pagerduty", renamed).json()["recorded"] == 1
    recorded = [(a.incident, a.status) for a in drill.of_type("alert")]
    assert recorded == [("PGR0VU2", "firing"), ("PXXXXX9", "firing"), ("PGR0VU2", "resolved")]
    first = drill.of_type("alert")[0]
    assert first.url == "https://acme.pagerduty.com/incidents/PGR0VU2"
    assert first.starts_at == "2020-04-09T15:16:27Z"


def test_an_acknowledgement_by_no_person_records_no_milestone(drill: LiveDrill) -> None:
    ack = pagerduty("incident.acknowledged", "acknowledged")
    ack["event"]["agent"] = {"id": "PSERVIC", "type": "service_reference", "summary": "API"}
    assert post(drill, "pagerduty", ack).json()["recorded"] == 1
    post(drill, "generic", {"name": "disk", "status": "ack"})
    assert [(a.status, a.actor) for a in drill.of_type("alert")] == [
        ("acknowledged", None),
        ("acknowledged", None),
    ]
    assert drill.of_type("milestone") == []


def test_grafana_is_recorded_as_grafana_by_rule_and_labels_at_either_endpoint(
    drill: LiveDrill,
) -> None:
    body = fixture("grafana-firing.json")
    assert post(drill, "alertmanager", body).json()["recorded"] == 2
    assert post(drill, "grafana", body).json()["recorded"] == 0  # the same two alerts
    recorded = drill.of_type("alert")
    assert [(a.source, a.name, a.identity) for a in recorded] == [
        ("grafana", "High memory usage", "1afz29v7z/c6eadffa33fcdf37"),
        ("grafana", "High CPU usage", "d1rdpdv7k/bc97ff14869b13e3"),
    ]
    assert recorded[0].labels == {"alertname": "High memory usage", "team": "blue", "zone": "us-1"}


def test_opsgenie_create_acknowledge_and_close_by_alert_id(drill: LiveDrill) -> None:
    created = fixture("opsgenie-create.json")
    post(drill, "opsgenie", created)
    acked = copy.deepcopy(created) | {"action": "Acknowledge"}
    post(drill, "opsgenie", acked)
    noted = copy.deepcopy(created) | {"action": "AddNote"}
    assert post(drill, "opsgenie", noted).json() == {"recorded": 0, "unchanged": 0}
    post(drill, "opsgenie", copy.deepcopy(created) | {"action": "Close"})
    recorded = drill.of_type("alert")
    assert [(a.name, a.status, a.actor) for a in recorded] == [
        ("test alert", "firing", None),
        ("test alert", "acknowledged", "fili@ifountain.com"),
        ("test alert", "resolved", None),
    ]
    assert recorded[0].identity == "052652ac-5d1c-464a-812a-7dd18bbfba8c"
    assert recorded[0].starts_at == "2015-01-05T10:03:11.104000+00:00"
    (ack,) = drill.of_type("milestone")
    assert ack.actor == "fili@ifountain.com"


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("Recovered", "resolved"),
        ("Re-Triggered", "firing"),
        ("PROBLEM", "firing"),
        ("RECOVERY", "resolved"),
        ("OK", "resolved"),
        ("ALARM", "firing"),
        ("alerting", "firing"),
        ("No Data", "firing"),
        ("no_data", "firing"),
        ("ACTIVATED", "firing"),
        ("CLOSED", "resolved"),
    ],
)
def test_the_usual_status_words_are_understood(word: str, status: str) -> None:
    (item,) = intake.parse_generic(json.dumps({"name": "x", "status": word}).encode())
    assert item.status == status


def test_a_blank_name_is_refused(drill: LiveDrill) -> None:
    reply = post(drill, "generic", {"name": "   ", "status": "firing"})
    assert reply.status_code == 400
    assert reply.json()["error"] == "name: must not be blank"
    assert alerts(drill) == []


def test_an_alertmanager_group_over_a_mebibyte_is_accepted(drill: LiveDrill) -> None:
    many = [
        am_alert(f"web-{n:04d}", "firing", f"{n:016x}", "2023-02-06T13:08:45Z") for n in range(300)
    ]
    for alert in many:
        alert["annotations"]["description"] = "d" * 4000
    body = json.dumps(am_group(*many)).encode()
    assert len(body) > 1024 * 1024
    assert post(drill, "alertmanager", body).json() == {"recorded": 300, "unchanged": 0}


@pytest.fixture
def wired(tmp_path: Path) -> Iterator[LiveDrill]:
    live = make_drill(tmp_path, options=AppOptions(intake_token="intake-token-" + "i" * 20))
    try:
        yield live
    finally:
        stop_drill(live)


def test_the_intake_token_may_come_as_bearer_or_basic_auth(wired: LiveDrill) -> None:
    token = "intake-token-" + "i" * 20
    body = {"name": "disk full", "status": "firing"}
    assert post(wired, "generic", body, Authorization=f"Bearer {token}").status_code == 200
    basic = base64.b64encode(f"grafana:{token}".encode()).decode()
    assert post(wired, "generic", body, Authorization=f"Basic {basic}").status_code == 200
    wrong = base64.b64encode(b"grafana:guess").decode()
    assert post(wired, "generic", body, Authorization=f"Basic {wrong}").status_code == 401
    assert post(wired, "generic", body, Authorization="Bearer nope").status_code == 401


def test_the_intake_token_opens_no_page(wired: LiveDrill) -> None:
    token = "intake-token-" + "i" * 20
    with wired.client() as http:
        assert http.get("/", params={"token": token}).status_code == 401
        assert (
            http.get("/facilitator", headers={"Authorization": f"Bearer {token}"}).status_code
            == 401
        )
