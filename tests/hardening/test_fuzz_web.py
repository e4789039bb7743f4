"""Fuzzing the participant page, the facilitator routes and the alert intake.

The app exposes no OpenAPI schema (plain Starlette routes), so hypothesis drives it through
httpx's ASGI transport (the app itself, in-process): each example is a fresh drill and a short
sequence of requests (some from a participant who joined properly,
most of them wrong in some way: no or a bogus token, a stale CSRF token, unknown roles and
milestones, oversized or non-UTF-8 bodies, JSON where a form is expected, cross-site headers,
garbage alert payloads). Whatever comes in: never a server error, and a request the app rejects
(any 4xx) records nothing in the drill's log.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kunren.page import AppOptions, LocalDrillControl, RunbookOutcome, create_app
from kunren.record.eventlog import EventLog
from kunren.record.events import DrillStarted
from kunren.runtime.clock import VirtualClock
from kunren.scenarios.models import RunbookSpec, Scenario

pytestmark = pytest.mark.integration  # hundreds of generated inputs: slow for make test-fast

P_TOKEN = "participant-token-" + "p" * 24
F_TOKEN = "facilitator-token-" + "f" * 24
I_TOKEN = "intake-token-" + "i" * 24  # the only token the intake takes
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SCENARIO = Scenario.model_validate(
    {
        "version": 1,
        "id": "fuzz-web",
        "title": "Web fuzzing",
        "duration": "60m",
        "roles": {
            "sre": {},
            "support": {"tools": [{"name": "Status page", "url": "https://status.example.com"}]},
        },
        "runbooks": [
            {"id": "restart", "title": "Restart", "kind": "process.restart", "roles": ["sre"]}
        ],
    }
)
PATHS = [
    "/",
    "/join",
    "/leave",
    "/milestone",
    "/runbook",
    "/readiness",
    "/note",
    "/api/state",
    "/facilitator",
    "/api/timeline",
    "/facilitator/mark",
    "/facilitator/amend",
    "/facilitator/abort",
    "/intake/alertmanager",
    "/intake/pagerduty",
    "/intake/generic",
    "/intake/nagios",
]
FIELDS = ["name", "role", "milestone", "key", "note", "text", "tool", "ok", "runbook"]
FIELDS += ["seq", "at", "reason", "confirm", "actor", "lang", "csrf", "audience", "template"]
GOOD = ["sre", "support", "detected", "triaged", "Status page", "yes", "restart", "1", "5m"]
CHARS = st.characters(codec="utf-8")  # lone surrogates cannot be sent as UTF-8
TEXT = (
    st.sampled_from(["status page is red", "", " ", *GOOD])
    | st.text(CHARS, max_size=30)
    | st.text(CHARS, min_size=900, max_size=1200)
)


async def _runbook(spec: RunbookSpec) -> RunbookOutcome:
    return RunbookOutcome("ok", f"ran {spec.id}")


@dataclass
class Drill:
    client: httpx.AsyncClient
    log: EventLog
    csrf: str = ""

    def lines(self) -> int:
        return len(self.log.path.read_bytes().splitlines())


@asynccontextmanager
async def drill() -> AsyncIterator[Drill]:
    with tempfile.TemporaryDirectory() as tmp:
        log = EventLog.create(Path(tmp) / "fuzz-web-1", "version: 1\n")
        clock = VirtualClock()
        control = LocalDrillControl(
            SCENARIO,
            log,
            clock,
            participant_token=P_TOKEN,
            facilitator_token=F_TOKEN,
            runbooks=_runbook,
        )
        control.record(
            DrillStarted(drill="fuzz-web-1", scenario_id="fuzz-web", duration=3600, clock="virtual")
        )
        app = create_app(control, AppOptions(intake_token=I_TOKEN))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1:8765"
        ) as client:
            yield Drill(client, log)


def run(test: Callable[[Drill], Awaitable[None]]) -> None:
    async def main() -> None:
        async with drill() as d:
            await test(d)

    asyncio.run(main())


async def open_session(d: Drill, token: str, join: bool) -> None:
    """A participant (or facilitator) who followed the link and, maybe, joined."""
    page = await d.client.get("/", params={"token": token}, follow_redirects=True)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found is not None
    d.csrf = found.group(1)
    if join:
        joined = await d.client.post(
            "/join",
            data={"name": "fuzzy", "role": "sre", "csrf": d.csrf},
            headers={"Accept": "application/json"},
        )
        assert joined.status_code == 200, joined.text


GET_PATHS = {"/", "/api/state", "/facilitator", "/api/timeline"}
MILESTONES = ["detected", "acknowledged", "triaged", "resolved", "nope"]
KEY = st.text("abcdef0123456789", min_size=1, max_size=12)
VALID_FORMS: dict[str, dict[str, st.SearchStrategy[str]]] = {
    "/join": {
        "name": st.sampled_from(["fuzzy", "ann"]) | TEXT,
        "role": st.sampled_from(["sre", "support", "sre", "nope"]),
    },
    "/milestone": {"milestone": st.sampled_from(MILESTONES), "key": KEY, "note": TEXT},
    "/runbook": {"runbook": st.sampled_from(["restart", "nope"]), "key": KEY},
    "/readiness": {"tool": st.sampled_from(["Status page", "x"]), "ok": st.sampled_from(GOOD)},
    "/note": {"text": TEXT, "key": KEY},
    "/facilitator/mark": {
        "milestone": st.sampled_from(MILESTONES),
        "role": st.sampled_from(["sre", "support", "nope"]),
        "person": st.sampled_from(["ann", ""]) | TEXT,
        "key": KEY,
    },
    "/facilitator/amend": {"seq": st.sampled_from(["2", "#3", "99", "x"]), "at": TEXT},
    "/facilitator/abort": {"confirm": st.sampled_from(["yes", "no"]), "reason": TEXT},
}


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly plausible requests (a known route, its method, its fields), each damaged a bit."""
    path = draw(st.sampled_from([*PATHS * 8, "random"]))
    if path == "random":
        path = draw(st.from_regex(r"\A/[a-z/%.]{0,20}\Z"))
    intake = path.startswith("/intake/")
    method = "GET" if path in GET_PATHS else "POST"
    if draw(st.integers(0, 9)) == 0:
        method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"]))
    token = draw(st.sampled_from([None, None, P_TOKEN, F_TOKEN, I_TOKEN, "bogus", ""]))
    if intake and draw(st.integers(0, 4)) > 0:
        token = I_TOKEN  # the intake takes its own token, from the URL or a header only
    how = draw(st.sampled_from(["header", "bearer", "query"]))
    headers = {"Accept": draw(st.sampled_from(["application/json", "application/json", "*/*"]))}
    params: dict[str, str] = {}
    if token is not None:
        if how == "header":
            headers["X-Kunren-Token"] = token
        elif how == "bearer":
            headers["Authorization"] = f"Bearer {token}"
        else:
            params["token"] = token
    if draw(st.integers(0, 4)) == 0:
        headers.update(
            draw(
                st.sampled_from(
                    [
                        {"Origin": "https://evil.example"},
                        {"Sec-Fetch-Site": "cross-site"},
                        {"Sec-Fetch-Site": "same-origin"},
                        {"Origin": "http://127.0.0.1:8765"},
                    ]
                )
            )
        )
    form = {k: draw(v) for k, v in VALID_FORMS.get(path, {}).items()}
    damage = draw(st.sampled_from(["none", "none", "drop", "replace", "add"]))
    if damage == "drop" and form:
        form.pop(draw(st.sampled_from(sorted(form))))
    elif damage == "replace" and form:
        form[draw(st.sampled_from(sorted(form)))] = draw(TEXT)
    elif damage == "add":
        form.update(draw(st.dictionaries(st.sampled_from(FIELDS), TEXT, max_size=3)))
    if draw(st.integers(0, 4)) > 0:
        form["csrf"] = "<session csrf>"
    body_kind = draw(st.sampled_from(["form"] * 6 + ["json", "bytes", "alert", "alert"]))
    if intake and draw(st.integers(0, 4)) > 0:
        body_kind = "alert"
    content: bytes
    if body_kind == "form":
        content = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body_kind in ("json", "alert"):
        value = draw(ALERTS) if body_kind == "alert" else form
        content = json.dumps(value).encode()
        headers["Content-Type"] = "application/json"
    else:
        content = draw(st.binary(max_size=300))
        headers["Content-Type"] = draw(
            st.sampled_from(["application/x-www-form-urlencoded", "text/plain", "multipart/x"])
        )
    return {"method": method, "path": path, "params": params, "headers": headers, "body": content}


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
STATUS = st.sampled_from(["firing", "resolved", "triggered", "acknowledged", "weird", ""])
ALERTS = st.one_of(
    st.fixed_dictionaries(
        {
            "alerts": st.lists(
                st.fixed_dictionaries(
                    {
                        "status": STATUS,
                        "labels": st.dictionaries(
                            st.sampled_from(["alertname", "severity"]), st.text(max_size=12)
                        ),
                    }
                ),
                max_size=3,
            )
        }
    ),
    st.fixed_dictionaries(
        {
            "event": st.fixed_dictionaries(
                {
                    "event_type": st.sampled_from(
                        ["incident.triggered", "incident.acknowledged", "incident.resolved", "x"]
                    ),
                    "data": st.fixed_dictionaries({"title": st.text(max_size=12)}),
                }
            )
        }
    ),
    st.fixed_dictionaries({"name": st.text(max_size=12), "status": STATUS}),
    JSONISH,
)


async def send(d: Drill, request: dict[str, Any]) -> None:
    body = request["body"].replace(b"%3Csession+csrf%3E", d.csrf.encode())
    body = body.replace(b"<session csrf>", d.csrf.encode())
    before = d.lines()
    response = await d.client.request(
        request["method"],
        request["path"],
        params=request["params"],
        headers=request["headers"],
        content=body,
        follow_redirects=False,
    )
    assert response.status_code < 500, (request, response.status_code, response.text[:500])
    if response.status_code >= 400:
        assert d.lines() == before, (request, response.status_code, "recorded an event anyway")


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    who=st.sampled_from([None, P_TOKEN, P_TOKEN, P_TOKEN, F_TOKEN]),
    join=st.sampled_from([True, True, True, False]),
    sequence=st.lists(requests(), min_size=1, max_size=6),
)
def test_no_request_gets_a_server_error_or_records_when_rejected(
    who: str | None, join: bool, sequence: list[dict[str, Any]]
) -> None:
    async def test(d: Drill) -> None:
        if who is not None:
            await open_session(d, who, join and who == P_TOKEN)
        for request in sequence:
            await send(d, request)

    run(test)


def test_the_fuzzer_sees_a_recorded_milestone_as_accepted() -> None:
    """The property is not vacuous: a proper click is accepted and does record."""

    async def test(d: Drill) -> None:
        await open_session(d, P_TOKEN, join=True)
        before = d.lines()
        response = await d.client.post(
            "/milestone",
            data={"milestone": "detected", "key": "k1", "csrf": d.csrf},
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 200, response.text
        assert d.lines() == before + 1

    run(test)


def test_a_rejected_click_records_nothing() -> None:
    async def test(d: Drill) -> None:
        await open_session(d, P_TOKEN, join=True)
        before = d.lines()
        stale = await d.client.post(
            "/milestone",
            data={"milestone": "detected", "key": "k1", "csrf": "stale"},
            headers={"Accept": "application/json"},
        )
        assert stale.status_code == 403
        assert d.lines() == before

    run(test)
