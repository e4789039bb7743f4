"""Pages rendered once and served with each response's own values (``kunren.page.rendered``):
the same bytes as a fresh render, a new page when what it shows changes, nobody else's name,
nonce, CSRF token or form keys, and a page from the cache that works in Chromium."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from kunren.durations import format_clock
from kunren.page.rendered import Fill, PageCache
from kunren.record.events import Inject
from tests.page.conftest import Browserless, LiveDrill, expect, join, open_page

NONCE = re.compile(r"'nonce-([^']+)'")
KEYS = re.compile(r'name="key" value="([^"]+)"')


class CheckedCache(PageCache):
    """The app's own cache, each page also rendered afresh by Jinja with the same values (the
    same nonce, CSRF token, time, name and form keys), both kept for the test to compare."""

    def __init__(self, cache: PageCache) -> None:
        super().__init__(cache.env)
        self.pairs: list[tuple[bytes, bytes]] = []

    def render(
        self,
        template: str,
        context: Mapping[str, Any],
        clock: Mapping[str, Any],
        values: Fill,
        new_key: Callable[[], str],
    ) -> bytes | None:
        cached_keys = (f"key{n}" for n in itertools.count())
        page = super().render(template, context, clock, values, lambda: next(cached_keys))
        fresh_keys = (f"key{n}" for n in itertools.count())
        names = {"actor": values.actor} if values.actor is not None else {}
        fresh = self.env.get_template(template).render(
            **context,
            **names,
            nonce=values.nonce,
            csrf=values.csrf,
            clock={**clock, "now": values.now},
            fmt=format_clock,
            new_key=lambda: next(fresh_keys),
        )
        assert page is not None
        self.pairs.append((page, fresh.encode()))
        return page


@pytest.fixture
def checked(drill: LiveDrill) -> CheckedCache:
    web = drill.app.state.web
    web.pages = CheckedCache(web.pages)
    assert isinstance(web.pages, CheckedCache)
    return web.pages


def test_a_page_from_the_cache_is_byte_for_byte_a_fresh_render(
    drill: LiveDrill, checked: CheckedCache
) -> None:
    drill.clock.advance(75)
    aiko = Browserless(drill, drill.ptoken)  # the join form
    assert aiko.join("Aiko <b>&amp;</b> \"'", "support").status_code == 200
    drill.control.record(Inject(kind="message", text="<script>x</script> & more", to=["support"]))
    first = aiko.http.get("/")
    again = aiko.http.get("/")  # the same state: from the cache
    mark = aiko.post("/milestone", {"milestone": "detected", "key": "k1"})
    assert mark.json()["ok"], mark.text
    after = aiko.http.get("/")
    ja = aiko.http.get("/", params={"lang": "ja"})
    aiko.close()

    assert [r.status_code for r in (first, again, after, ja)] == [200] * 4
    assert len(checked.pairs) == 5  # the join form, 4 drill pages (one in Japanese)
    for cached, fresh in checked.pairs:
        assert cached == fresh
    assert checked.hits == 1  # the second drill page, the same state as the first
    assert "Aiko &lt;b&gt;&amp;amp;&lt;/b&gt; &#34;&#39;" in first.text  # escaped as Jinja does
    assert "&lt;script&gt;x&lt;/script&gt; &amp; more" in first.text


def test_a_cached_page_changes_with_the_state_and_keeps_nothing_of_another_person(
    drill: LiveDrill,
) -> None:
    web = drill.app.state.web
    drill.clock.advance(60)
    aiko = Browserless(drill, drill.ptoken)
    ben = Browserless(drill, drill.ptoken)
    aiko.join("Aiko", "support")
    ben.join("Ben", "support")
    misses = web.pages.misses
    a1 = aiko.http.get("/")
    b1 = ben.http.get("/")  # the same role, language and state: the page Aiko's was made from
    assert web.pages.misses == misses + 1
    assert "· Aiko (" in a1.text and "Aiko" not in b1.text and "· Ben (" in b1.text
    assert NONCE.findall(a1.headers["content-security-policy"]) != NONCE.findall(
        b1.headers["content-security-policy"]
    )
    for response in (a1, b1):  # the page's nonce is its response's
        (nonce,) = set(NONCE.findall(response.headers["content-security-policy"]))
        assert response.text.count(f'nonce="{nonce}"') >= 2
    assert f'value="{aiko.csrf}"' in a1.text and aiko.csrf not in b1.text
    keys_a, keys_b = KEYS.findall(a1.text), KEYS.findall(b1.text)
    assert keys_a and len(set(keys_a + keys_b)) == len(keys_a) + len(keys_b)  # all fresh

    drill.clock.advance(30)  # the time is each response's own, not the cached page's
    b2 = ben.http.get("/")
    assert 'data-now="90.0"' in b2.text and "T+01:30" in b2.text
    assert 'data-now="60.0"' in b1.text and "T+01:00" in b1.text

    drill.control.record(Inject(kind="message", text="the status page is down", to=["support"]))
    a2 = aiko.http.get("/")
    assert "the status page is down" in a2.text and "the status page is down" not in a1.text
    assert ben.post("/milestone", {"milestone": "detected", "key": "b1"}).json()["ok"]
    b3, a3 = ben.http.get("/"), aiko.http.get("/")
    detected = re.compile(r'data-milestone="detected">.*?<button type="submit" ([^>]*)>', re.S)
    assert detected.search(b3.text).group(1) == "disabled"  # type: ignore[union-attr]
    assert detected.search(a3.text).group(1) == ""  # type: ignore[union-attr]
    aiko.close()
    ben.close()


@pytest.mark.browser
def test_a_page_from_the_cache_runs_and_records_in_chromium(drill: LiveDrill, browser: Any) -> None:
    web = drill.app.state.web
    drill.clock.advance(120)
    aiko = open_page(browser, drill.server.link("/", drill.ptoken), locale="en-US")
    join(aiko, "Aiko", "support")
    expect(aiko.get_by_role("button", name="I noticed a problem")).to_be_visible()
    hits = web.pages.hits
    ben = open_page(browser, drill.server.link("/", drill.ptoken), locale="en-US")
    join(ben, "Ben", "support")  # his join form and drill page: Aiko's, from the cache
    expect(ben.locator("h1")).to_contain_text("Ben")
    assert web.pages.hits >= hits + 2
    detected = ben.locator('form[data-milestone="detected"]')
    detected.get_by_role("button").click()  # the page's script runs: its nonce is right
    expect(detected.locator("[data-status]")).to_have_text("Recorded at T+02:00")
    expect(ben.locator("body")).to_have_attribute("data-live", "push")
    drill.wait_for(lambda events: any(e.type == "milestone" for e in events))
    (mark,) = [e for e in drill.events() if e.type == "milestone"]
    assert (mark.actor, mark.name) == ("Ben", "detected")
    drill.control.record(Inject(kind="message", text="mail is bouncing", to=["support"]))
    expect(aiko.locator("#injects")).to_contain_text("mail is bouncing")  # pushed
    aiko.reload()  # a fresh render for the new state, with her own name
    expect(aiko.locator("#injects")).to_contain_text("mail is bouncing")
    expect(aiko.locator("h1")).to_contain_text("Aiko")
    aiko.context.close()
    ben.context.close()
