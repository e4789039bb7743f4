"""Pages rendered once and served many times, with each response's own values put in.

A thousand people join a drill in a few minutes, and Jinja rendering the join form and the
drill page for each of them was the largest single cost of a page load (issue 17: about
0.6 ms of a 0.8 ms request). Most of a page is the same for everybody of one role and
language at one state of the drill; what differs per response is small and sits in known
places: the CSP nonce, the session's CSRF token, the idempotency keys of the forms, the drill
time now, and the person's name. So a page is rendered with *holes* (random markers standing
for those values, which autoescaping leaves as they are), split at the holes once, and kept;
each response joins the pieces with its own values, escaped as Jinja would have escaped them.
The bytes are the same as a fresh render's (a test renders both ways and compares).

A kept page is found by its template, its language and everything else it was rendered
from, serialised: a page changes exactly when what it shows changes, with no version to keep
in step. Context that cannot be serialised is rendered afresh, never cached under a wrong key.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from jinja2 import Environment
from markupsafe import escape

from kunren.durations import format_clock

Hole = Literal["nonce", "csrf", "key", "now", "now_text", "actor"]
KEPT = 256  # pages kept (a few roles x two languages x the states people reach)


@dataclass(frozen=True)
class Fill:
    """One response's values for the holes (``actor``: None on a page that shows no name)."""

    nonce: str
    csrf: str
    now: float
    actor: str | None = None


@dataclass(frozen=True)
class Kept:
    """A page split at its holes: ``pieces[i]`` is literal bytes or the name of a hole."""

    pieces: tuple[bytes | Hole, ...]

    def fill(self, values: Fill, new_key: Callable[[], str]) -> bytes:
        out: list[bytes] = []
        for piece in self.pieces:
            if isinstance(piece, bytes):
                out.append(piece)
            else:
                out.append(_value(piece, values, new_key).encode())
        return b"".join(out)


def _value(hole: Hole, values: Fill, new_key: Callable[[], str]) -> str:
    match hole:
        case "nonce":
            return values.nonce
        case "csrf":
            return str(escape(values.csrf))
        case "key":
            return new_key()  # a fresh key for each form, as each fresh render made
        case "now":
            return str(values.now)
        case "now_text":
            return format_clock(values.now)
        case "actor":
            return str(escape(values.actor or ""))


class PageCache:
    """Rendered pages by what they were rendered from (least recently used dropped)."""

    def __init__(self, env: Environment, kept: int = KEPT) -> None:
        self.env = env
        self.kept = kept
        self.pages: OrderedDict[str, Kept] = OrderedDict()
        self.hits = 0
        self.misses = 0
        tag = secrets.token_hex(8)  # unguessable: no text a person types can be a hole
        self.marks: dict[Hole, str] = {
            hole: f"kunren{tag}{hole.replace('_', '')}"
            for hole in ("nonce", "csrf", "key", "now", "now_text", "actor")
        }
        longest_first = sorted(self.marks.values(), key=len, reverse=True)  # "now" in "nowtext"
        self.split = re.compile("(" + "|".join(longest_first) + ")")
        self.hole_of = {mark: hole for hole, mark in self.marks.items()}

    def render(
        self,
        template: str,
        context: Mapping[str, Any],
        clock: Mapping[str, Any],
        values: Fill,
        new_key: Callable[[], str],
    ) -> bytes | None:
        """The page's bytes, or None when ``context`` cannot make a key (render it afresh).

        ``context`` holds everything the template reads except the holes' values and the
        clock; ``clock`` is the clock state without its ``now`` ("now" is a hole)."""
        key = _key(template, context, clock)
        if key is None:
            return None
        kept = self.pages.get(key)
        if kept is None:
            self.misses += 1
            kept = self._render(template, context, clock, values.actor is not None)
            self.pages[key] = kept
            if len(self.pages) > self.kept:
                self.pages.popitem(last=False)
        else:
            self.hits += 1
            self.pages.move_to_end(key)
        return kept.fill(values, new_key)

    def _render(
        self, template: str, context: Mapping[str, Any], clock: Mapping[str, Any], actor: bool
    ) -> Kept:
        marks = self.marks
        now_mark = marks["now"]

        def fmt(seconds: float | str) -> str:
            if seconds == now_mark:
                return marks["now_text"]
            assert not isinstance(seconds, str)
            return format_clock(seconds)

        html = self.env.get_template(template).render(
            **context,
            **({"actor": marks["actor"]} if actor else {}),
            nonce=marks["nonce"],
            csrf=marks["csrf"],
            clock={**clock, "now": now_mark},
            fmt=fmt,
            new_key=lambda: marks["key"],
        )
        pieces: list[bytes | Hole] = []
        for index, part in enumerate(self.split.split(html)):
            if index % 2:
                pieces.append(self.hole_of[part])
            elif part:
                pieces.append(part.encode())
        return Kept(tuple(pieces))


def _key(template: str, context: Mapping[str, Any], clock: Mapping[str, Any]) -> str | None:
    scenario = context["scenario"]  # the same for the whole drill; what the pages show of it
    plain = {k: v for k, v in context.items() if k not in ("t", "scenario")}
    plain["scenario"] = [scenario.title, scenario.duration]
    try:
        text = json.dumps([plain, dict(clock)], sort_keys=True, default=_plain)
    except TypeError:
        return None
    lang = context["lang"]
    return f"{template}\0{lang}\0{text}"


def _plain(value: object) -> object:
    """Frozen data by its fields; anything else is refused (no key from an object's id)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    raise TypeError(f"not plain data: {type(value).__name__}")
