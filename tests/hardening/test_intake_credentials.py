"""The alert intake takes its own credential only: the drill's page tokens post no alert.

Anyone holding the join link has the participant token. Were it accepted by ``/intake/…``, a
participant could post (or a leaked link replay) an alert that moves the time monitoring
detected the fault: a number in the report that is not the truth. So on the participant
page's port and on the intake's own port, every source refuses the participant and the
facilitator token however they come (a header, Bearer, Basic auth, the query), with 401 and
nothing recorded; the intake token, sent the same ways, is accepted.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kunren.page import AppOptions, intake
from tests.monitoring.test_intake_server import TOKEN as OWN_PORT_TOKEN
from tests.monitoring.test_intake_server import close_intake, open_intake
from tests.page.conftest import LiveDrill, make_drill, stop_drill
from tests.page.test_intake import ALERTMANAGER_FIRING, pagerduty

INTAKE_TOKEN = "intake-token-" + "k" * 24
BODIES: dict[str, Any] = {
    "alertmanager": ALERTMANAGER_FIRING,
    "grafana": {**ALERTMANAGER_FIRING, "orgId": 1},
    "pagerduty": pagerduty("incident.triggered", "triggered"),
    "opsgenie": {"action": "Create", "alert": {"alertId": "a-1", "message": "disk full"}},
    "sns": {"Type": "Notification", "Message": "{}"},
    "generic": {"name": "disk full", "status": "firing"},
}


def ways(token: str) -> list[tuple[dict[str, str], dict[str, str]]]:
    """(headers, query) for each way a token may be presented."""
    basic = base64.b64encode(f"anyone:{token}".encode()).decode()
    return [
        ({"Authorization": f"Bearer {token}"}, {}),
        ({"X-Kunren-Token": token}, {}),
        ({"Authorization": f"Basic {basic}"}, {}),
        ({}, {"token": token}),
    ]


def post(base: str, source: str, headers: dict[str, str], query: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{base}/intake/{source}",
        content=json.dumps(BODIES[source]).encode(),
        headers={"Content-Type": "application/json", **headers},
        params=query,
        timeout=10.0,
    )


@pytest.fixture
def page(tmp_path: Path) -> Iterator[LiveDrill]:
    live = make_drill(tmp_path, options=AppOptions(poll_seconds=0.2, intake_token=INTAKE_TOKEN))
    try:
        yield live
    finally:
        stop_drill(live)


def test_every_intake_route_of_the_page_refuses_the_page_tokens_and_records_nothing(
    page: LiveDrill,
) -> None:
    assert set(BODIES) == set(intake.SOURCES)
    for token in (page.ptoken, page.ftoken):
        for source in intake.SOURCES:
            for headers, query in ways(token):
                reply = post(page.url, source, headers, query)
                assert reply.status_code == 401, (source, headers, query, reply.text)
                assert "the drill's page tokens are not accepted here" in reply.json()["error"]
    assert [e.type for e in page.events()] == ["drill.started"]

    for headers, query in ways(INTAKE_TOKEN):  # the intake's own token, the same ways: taken
        assert post(page.url, "generic", headers, query).status_code == 200
    assert len(page.of_type("alert")) == 1  # the same alert, recorded once


def test_a_page_without_an_intake_token_takes_no_alert_from_a_participant(
    tmp_path: Path,
) -> None:
    live = make_drill(tmp_path)  # a scenario with no `intake` key
    try:
        for source in intake.SOURCES:
            for headers, query in ways(live.ptoken):
                reply = post(live.url, source, headers, query)
                assert reply.status_code == 401, (source, reply.text)
                assert "no intake token" in reply.json()["error"]
        assert [e.type for e in live.events()] == ["drill.started"]
    finally:
        stop_drill(live)


def test_every_route_of_the_intakes_own_port_refuses_the_page_tokens(tmp_path: Path) -> None:
    own = open_intake(tmp_path)
    try:
        own.start()
        for token in (own.control.participant_token, own.control.facilitator_token):
            for source in intake.SOURCES:
                for headers, query in ways(token):
                    reply = post(own.server.url, source, headers, query)
                    assert reply.status_code == 401, (source, reply.text)
        assert own.alerts() == []
        taken = post(own.server.url, "generic", *ways(OWN_PORT_TOKEN)[0])
        assert taken.status_code == 200
        assert len(own.alerts()) == 1
    finally:
        close_intake(own)


def test_an_oversized_alert_body_with_the_intake_token_is_refused_with_413(
    page: LiveDrill,
) -> None:
    reply = httpx.post(
        f"{page.url}/intake/generic",
        content=b"{" + b" " * (5 * 1024 * 1024) + b"}",
        headers={"Authorization": f"Bearer {INTAKE_TOKEN}"},
        timeout=10.0,
    )
    assert reply.status_code == 413
    assert page.of_type("alert") == []
