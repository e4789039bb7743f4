"""Durations as people write them in scenarios: ``90s``, ``5m``, ``1h30m`` or ISO 8601 ``PT5M``.

Everything inside kunren counts time in float seconds from drill start; this module is the only
place that turns text into seconds and seconds back into text.
"""

from __future__ import annotations

import re

_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_SHORT = re.compile(r"^(?:(\d+(?:\.\d+)?)(d|h|ms|m|s))+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)(d|h|ms|m|s)")
_ISO = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)$")


def parse_duration(text: object) -> float:
    """Seconds in ``text``; raises ValueError with the wording shown to users."""
    if isinstance(text, bool):
        raise ValueError(f"expected a duration like 5m, got {text!r}")
    if isinstance(text, int | float):
        if text == 0:
            return 0.0
        raise ValueError(f"expected a duration like 5m, got {text!r} (add a unit: 5m, 90s)")
    if not isinstance(text, str):
        raise ValueError(f"expected a duration like 5m, got {text!r}")
    value = text.strip()
    if value in ("0", ""):
        if value == "0":
            return 0.0
        raise ValueError(f"expected a duration like 5m, got {text!r}")
    if _SHORT.match(value):
        return sum(float(n) * _UNITS[u] for n, u in _PART.findall(value))
    iso = _ISO.match(value.upper())
    if iso and value.upper() not in ("P", "PT") and any(iso.groupdict().values()):
        parts = {k: float(v) if v else 0.0 for k, v in iso.groupdict().items()}
        return parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
    raise ValueError(f"expected a duration like 5m, got {text!r}")


def parse_clock_offset(text: str) -> float:
    """Seconds in an ``MM:SS`` or ``H:MM:SS`` offset (the form spreadsheets use)."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f"expected an offset like 12:30 or 1:02:03, got {text!r}")
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)


def parse_offset(text: str) -> float:
    """An offset from drill start in any accepted form: ``12:30``, ``1:02:03``, ``5m``, ``PT5M``."""
    if ":" in text:
        return parse_clock_offset(text)
    return parse_duration(text)


def format_duration(seconds: float) -> str:
    """Compact form for plans and tables: ``5m``, ``1h30m``, ``45s``, ``2m30s``."""
    total = round(seconds)
    if total == 0:
        return "0s"
    sign = "-" if total < 0 else ""
    total = abs(total)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if secs:
        parts.append(f"{secs}s")
    return sign + "".join(parts)


def format_clock(seconds: float) -> str:
    """``MM:SS`` (or ``H:MM:SS``) for drill clocks and timelines."""
    total = int(seconds)
    sign = "-" if total < 0 else ""
    total = abs(total)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
    return f"{sign}{minutes:02d}:{secs:02d}"
