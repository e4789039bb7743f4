"""How a timing is written for people, in one place, so the table, the report and the trend agree.

The rule the retro reads: whole minutes rounded to the nearest ("31 min"); under a minute in
seconds ("45 s"); a milestone never reached is censored and shown as the time observed with a
plus ("60+ min"), rounded down, because it is only a lower bound and must never look measured.
"""

from __future__ import annotations

import math

ARROW = " → "

BEFORE_T0 = {"en": "before T0", "ja": "T0より前"}

_UNITS = {
    "en": {"min": "{n} min", "s": "{n} s", "min+": "{n}+ min", "s+": "{n}+ s"},
    "ja": {"min": "{n}分", "s": "{n}秒", "min+": "{n}分以上", "s+": "{n}秒以上"},
}


def _half_up(value: float) -> int:
    # Python's round() rounds halves to even (2.5 -> 2); people expect 3.
    return math.floor(value + 0.5) if value >= 0 else -math.floor(-value + 0.5)


def format_timing(seconds: float | None, censored: bool = False, lang: str = "en") -> str:
    """``31 min``, ``45 s``, or for a censored bound ``60+ min``; ``–`` when there is none."""
    if seconds is None:
        return "–"
    units = _UNITS.get(lang, _UNITS["en"])
    if censored:
        whole = math.floor(seconds) if seconds >= 0 else 0
        if whole < 60:
            return units["s+"].format(n=whole)
        return units["min+"].format(n=whole // 60)
    whole_seconds = _half_up(seconds)
    if abs(whole_seconds) < 60:
        return units["s"].format(n=whole_seconds)
    return units["min"].format(n=_half_up(seconds / 60))


def format_observed(seconds: float, lang: str = "en") -> str:
    """How long was watched, rounded down like a censored bound ("12 min" for 12:30), so
    "12+ min" and "not reached in the 12 min observed" agree."""
    whole = max(0, math.floor(seconds))
    return format_timing(whole if whole < 60 else whole // 60 * 60, lang=lang)


def join_trend(displays: list[str]) -> str:
    """``60+ min → 44 min → 31 min``."""
    return ARROW.join(displays)
