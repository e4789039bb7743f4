"""The rules in kunren.page.security, one by one (no server needed)."""

from __future__ import annotations

import pytest

from kunren.page.security import (
    Access,
    FieldError,
    SessionStore,
    Tokens,
    bearer_token,
    clean_name,
    clean_note,
    cross_site_reason,
    is_loopback,
)

TOKENS = Tokens(participant="p" * 43, facilitator="f" * 43)


def test_tokens_grant_what_they_are_for_and_must_differ() -> None:
    assert TOKENS.access("p" * 43) is Access.PARTICIPANT
    assert TOKENS.access("f" * 43) is Access.FACILITATOR
    assert TOKENS.access("p" * 42) is Access.NONE and TOKENS.access(None) is Access.NONE
    assert TOKENS.access("ｐ" * 43) is Access.NONE  # non-ASCII compares safely
    assert TOKENS.best([None, "p" * 43, "f" * 43]) is Access.FACILITATOR
    with pytest.raises(ValueError, match="must differ"):
        Tokens(participant="same", facilitator="same")


def test_bearer_token_reads_both_headers() -> None:
    assert bearer_token({"authorization": "Bearer abc "}) == "abc"
    assert bearer_token({"x-kunren-token": "xyz"}) == "xyz"
    assert bearer_token({"authorization": "Basic abc"}) is None


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ({"sec-fetch-site": "same-origin", "origin": "null", "host": "h:1"}, False),
        ({"sec-fetch-site": "same-site", "origin": "http://h:2", "host": "h:1"}, True),
        ({"sec-fetch-site": "cross-site"}, True),
        ({"origin": "http://h:1", "host": "h:1"}, False),
        ({"origin": "http://evil", "host": "h:1"}, True),
        ({"origin": "null", "host": "h:1"}, True),
        ({"host": "h:1"}, False),  # not a browser: the CSRF token decides
    ],
)
def test_cross_site_requests_are_recognised(headers: dict[str, str], refused: bool) -> None:
    assert (cross_site_reason(headers, "http") is not None) is refused


def test_names_are_trimmed_single_spaced_and_limited() -> None:
    assert clean_name("  Aiko\t  Tanaka\n") == "Aiko Tanaka"
    assert clean_name("佐藤\u0000花子") == "佐藤花子"
    for bad in ("", "   ", "x" * 81, "\u200b"):
        with pytest.raises(FieldError):
            clean_name(bad)


def test_notes_keep_newlines_drop_controls_and_are_limited() -> None:
    assert clean_note("line one\r\nline two\x1b[31m") == "line one\nline two[31m"
    assert clean_note(None) == ""
    with pytest.raises(FieldError) as exc:
        clean_note("n" * 1001)
    assert (exc.value.key, exc.value.limit) == ("err_note", 1000)
    with pytest.raises(FieldError):
        clean_note(" ", required=True)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("drill.example.com", False),
    ],
)
def test_only_loopback_addresses_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_sessions_are_bounded_and_keys_replayed() -> None:
    store = SessionStore(limit=2)
    first = store.create()
    store.create()
    store.create()
    assert store.get(first.sid) is None and len(store) == 2
    session = store.create()
    assert session.check_csrf(session.csrf) and not session.check_csrf("x")
    session.remember("k1", "reply")
    assert session.remembered("k1") == "reply" and session.remembered("") is None


def test_a_flood_of_new_sessions_never_evicts_one_someone_joined_in() -> None:
    store = SessionStore(limit=3)
    joined = store.create()
    joined.actor, joined.role = "Aiko", "support"
    store.keep(joined)
    for _ in range(50):
        store.create()
    assert store.get(joined.sid) is joined
    assert len(store) == 4  # three anonymous at most, and Aiko


def test_a_session_that_joined_between_requests_is_kept_on_its_next_request() -> None:
    store = SessionStore(limit=2)
    session = store.create()
    session.actor, session.role = "Ben", "sre"
    assert store.get(session.sid) is session  # moved out of the anonymous pool
    for _ in range(10):
        store.create()
    assert store.get(session.sid) is session
