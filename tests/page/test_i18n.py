"""Both languages for every string, and how the page picks its language."""

from __future__ import annotations

import string

import pytest

from kunren.page.i18n import LANGS, STRINGS, Translator, pick_lang


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_every_string_has_every_language_with_the_same_placeholders(key: str) -> None:
    entry = STRINGS[key]
    assert set(entry) == set(LANGS)
    assert all(entry[lang].strip() for lang in LANGS)
    assert fields(entry["en"]) == fields(entry["ja"])


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "default", "expected"),
    [
        ("ja", "en", "en-US", "en", "ja"),
        (None, "ja", "en-US", "en", "ja"),
        ("xx", None, "ja-JP,ja;q=0.9,en;q=0.8", "en", "ja"),
        (None, None, "fr-FR,en;q=0.5,ja;q=0.9", "en", "ja"),
        (None, None, "en;q=0,ja;q=0.1", "en", "ja"),
        (None, None, "de-DE", "ja", "ja"),
        (None, None, None, "ja", "ja"),
        (None, None, "garbage;;q=x", "en", "en"),
    ],
)
def test_language_is_query_then_cookie_then_browser_then_scenario(
    query: str | None, cookie: str | None, accept: str | None, default: str, expected: str
) -> None:
    assert pick_lang(query, cookie, accept, default) == expected


def test_the_translator_formats_and_names_unknown_keys() -> None:
    assert Translator("ja")("recorded_at", at="05:00") == "T+05:00 に記録しました"
    assert Translator("fr")("join") == "Join"
    assert Translator("en")("no_such_key") == "no_such_key"
