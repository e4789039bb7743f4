"""The page's defences: tokens, cross-site requests, CSRF, limits, escaping, no tracebacks.

Each refusal is followed by a request that still works: a refused request never takes the
drill server down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kunren.errors import GuardrailError, KunrenError
from kunren.page import LocalDrillControl, create_app, serve
from kunren.page.security import MAX_SESSIONS
from kunren.record.events import Runbook
from tests.page.conftest import Browserless, LiveDrill, make_drill, stop_drill

PAGE_ROUTES = [
    ("GET", "/"),
    ("GET", "/api/state"),
    ("GET", "/api/stream"),
    ("POST", "/join"),
    ("POST", "/leave"),
    ("POST", "/milestone"),
    ("POST", "/runbook"),
    ("POST", "/readiness"),
    ("POST", "/note"),
    ("GET", "/facilitator"),
    ("GET", "/api/timeline"),
    ("GET", "/api/timeline/stream"),
    ("POST", "/facilitator/mark"),
    ("POST", "/facilitator/amend"),
    ("POST", "/facilitator/abort"),
]
FACILITATOR_ROUTES = [
    r for r in PAGE_ROUTES if "facilitator" in r[1] or r[1].startswith("/api/timeline")
]


def assert_still_serving(drill: LiveDrill) -> None:
    with drill.client() as http:
        assert http.get("/", params={"token": drill.ptoken}).status_code == 303


def test_the_route_list_covers_every_route_of_the_app(drill: LiveDrill) -> None:
    app = create_app(drill.control)
    declared = {(m, r.path) for r in app.routes for m in r.methods if m != "HEAD"}
    assert declared == set(PAGE_ROUTES) | {("POST", "/intake/{source}")}


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
def test_every_route_refuses_a_missing_or_wrong_token(drill: LiveDrill, token: str | None) -> None:
    with drill.client() as http:
        for method, path in PAGE_ROUTES:
            params = {"token": token} if token is not None else {}
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            reply = http.request(method, path, params=params, headers=headers)
            assert reply.status_code == 401, (method, path, reply.status_code)
            assert "drill link with its token" in reply.text
        for source in ("alertmanager", "pagerduty", "generic"):
            reply = http.post(f"/intake/{source}", params=params, json={"name": "x"})
            assert reply.status_code == 401
    assert [e.type for e in drill.events()] == ["drill.started"]
    assert_still_serving(drill)


def test_facilitator_routes_refuse_the_participant_token(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    ben = session_for()
    ben.join("Ben", "sre")
    for method, path in FACILITATOR_ROUTES:
        data = {"csrf": ben.csrf, "seq": "1", "at": "1:00", "reason": "x", "confirm": "yes"}
        reply = ben.http.request(method, path, data=data if method == "POST" else None)
        assert reply.status_code == 403, (method, path)
        assert "for the facilitator only" in reply.text
    with drill.client() as http:
        reply = http.get("/facilitator", headers={"X-Kunren-Token": drill.ptoken})
        assert reply.status_code == 403
    assert not drill.of_type("amendment") and not drill.of_type("drill.aborted")


def test_a_link_token_becomes_a_cookie_and_leaves_the_address(drill: LiveDrill) -> None:
    with drill.client() as http:
        first = http.get("/facilitator", params={"token": drill.ftoken, "lang": "ja"})
        assert first.status_code == 303
        assert first.headers["location"] == "/facilitator?lang=ja"
        cookie = first.headers["set-cookie"]
        assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
        assert http.get("/facilitator").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another port on the same host
        {"Origin": "http://127.0.0.1:1"},  # an older browser: only Origin tells
    ],
)
def test_a_cross_site_post_is_refused_and_records_nothing(
    drill: LiveDrill, session_for: Callable[..., Browserless], headers: dict[str, str]
) -> None:
    ben = session_for()
    ben.join("Ben", "sre")
    reply = ben.post("/milestone", {"milestone": "detected"}, **headers)
    assert reply.status_code == 403
    assert reply.json()["error"] == "Refused: the request did not come from this drill's page."
    assert drill.of_type("milestone") == []
    same_origin = {"Origin": drill.url, "Sec-Fetch-Site": "same-origin"}
    assert ben.post("/milestone", {"milestone": "detected"}, **same_origin).status_code == 200


def test_a_post_without_the_session_csrf_token_is_refused(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    ben = session_for()
    ben.join("Ben", "sre")
    other = session_for()
    for csrf in ("", "forged", other.csrf):
        reply = ben.http.post("/milestone", data={"csrf": csrf, "milestone": "detected"})
        assert reply.status_code == 403
        assert "This form has expired" in reply.text
    with drill.client() as http:  # a token but no session at all
        reply = http.post(
            "/milestone", data={"milestone": "detected"}, headers={"X-Kunren-Token": drill.ptoken}
        )
        assert reply.status_code == 403
    assert drill.of_type("milestone") == []


def test_an_oversized_body_is_refused_with_413(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    ben = session_for()
    ben.join("Ben", "sre")
    big = "x" * (65 * 1024)
    assert ben.post("/note", {"text": big}).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while reading
        yield f"csrf={ben.csrf}&text=".encode()
        for _ in range(70):
            yield b"y" * 1024

    streamed = ben.http.post(
        "/note",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    assert streamed.status_code == 413
    with drill.client() as http:
        intake = http.post(
            # the intake takes alert storms (4 MiB), and only with its own token: the
            # participant's is refused before the body is read
            "/intake/generic",
            params={"token": drill.ptoken},
            content=b"{" + b" " * (5 * 1024 * 1024) + b"}",
        )
        assert intake.status_code == 401
    assert drill.of_type("note") == []
    assert ben.post("/note", {"text": "still here"}).status_code == 200


def test_names_and_notes_are_length_limited(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    ben = session_for()
    assert ben.join("x" * 81, "sre").status_code == 400
    assert ben.join("   ", "sre").status_code == 400
    assert ben.join("Ben", "cto").status_code == 400
    assert ben.join("B" * 80, "sre").status_code == 200
    too_long = ben.post("/milestone", {"milestone": "detected", "note": "n" * 1001})
    assert too_long.status_code == 400
    assert too_long.json()["error"] == "Notes are limited to 1000 characters."
    assert ben.post("/milestone", {"milestone": "detected", "note": "n" * 1000}).status_code == 200


def test_markup_in_a_note_is_shown_escaped(
    drill: LiveDrill, session_for: Callable[..., Browserless]
) -> None:
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    ben = session_for()
    ben.join(payload[:80], "sre")
    ben.post("/milestone", {"milestone": "detected", "note": payload})
    facilitator = session_for(drill.ftoken, "/facilitator")
    page = facilitator.http.get("/facilitator")
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
        in page.text
    )
    assert "script-src 'nonce-" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


class ExplodingControl(LocalDrillControl):
    async def run_runbook(self, runbook_id: str, actor: str, role: str) -> Runbook:
        raise RuntimeError("secret internals at /srv/kunren/conductor.py line 42")


@pytest.fixture
def exploding(tmp_path: Path) -> Iterator[LiveDrill]:
    live = make_drill(tmp_path, control_cls=ExplodingControl)
    try:
        yield live
    finally:
        stop_drill(live)


def test_an_unexpected_error_shows_a_generic_page_without_a_traceback(
    exploding: LiveDrill,
) -> None:
    ben = Browserless(exploding, exploding.ptoken)
    ben.join("Ben", "sre")
    for accept in ("application/json", "text/html"):
        reply = ben.post("/runbook", {"runbook": "stop-worker"}, Accept=accept)
        assert reply.status_code == 500
        assert "Something went wrong on the drill server" in reply.text
        for leak in ("secret internals", "Traceback", "RuntimeError", ".py"):
            assert leak not in reply.text
    # the runbook is not left marked as running, and the drill goes on
    assert ben.post("/milestone", {"milestone": "detected"}).status_code == 200
    ben.close()


def test_the_server_refuses_a_non_loopback_bind_without_the_flag(drill: LiveDrill) -> None:
    app = create_app(drill.control)
    for host in ("0.0.0.0", "::", "192.0.2.10"):
        with pytest.raises(GuardrailError, match="reachable beyond this machine"):
            asyncio.run(serve(app, host, 0))


def test_an_explicit_flag_allows_serving_beyond_loopback(drill: LiveDrill) -> None:
    async def scenario() -> int:
        server = await serve(create_app(drill.control), "0.0.0.0", 0, allow_remote=True)
        try:
            async with httpx.AsyncClient() as http:
                reply = await http.get(f"http://127.0.0.1:{server.port}/")
            return reply.status_code
        finally:
            await server.stop()

    assert asyncio.run(scenario()) == 401


def test_a_busy_port_is_one_clear_error(drill: LiveDrill) -> None:
    with pytest.raises(KunrenError, match=f"cannot serve on 127.0.0.1:{drill.server.port}"):
        asyncio.run(serve(create_app(drill.control), "127.0.0.1", drill.server.port))


@pytest.mark.integration
def test_a_flood_of_token_requests_does_not_evict_a_joined_participant(
    drill: LiveDrill, session_for: Any
) -> None:
    aiko = session_for()
    assert aiko.join("Aiko", "support").status_code == 200
    with drill.client() as flood:  # cookie-less: every request makes a new session
        for _ in range(MAX_SESSIONS + 10):
            answer = flood.get("/api/state", headers={"X-Kunren-Token": drill.ptoken})
            assert answer.status_code == 200
            flood.cookies.clear()
    page = aiko.http.get("/")
    assert page.status_code == 200 and "Aiko" in page.text and 'id="join-form"' not in page.text
    assert aiko.post("/note", {"text": "still here", "key": "k1"}).status_code == 200
