"""Scorecards of earlier drills kept between runs, so a series is not re-read every time.

The end-of-run report and ``kunren trend`` score every drill of a series; a drill that ended
does not change, so re-parsing its whole record each time made every run slower than the last
as the drills folder grew. Each drills folder keeps ``.scorecards.json``: per drill folder, the
fingerprint of its files (size, mtime and SHA-256 of the record, the scenario snapshot and the
metadata) and the Scorecard scored from them as the trend needs it (``trend_view``). A card is
used only while every fingerprint matches and the scorer's version (a hash of the code that
turns a record into a card) is the one that wrote it; anything else is scored again. The index
is a cache: a damaged or unwritable one is ignored and rebuilt, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from kunren.record.eventlog import EVENTS_FILE, SCENARIO_FILE
from kunren.record.folders import META_FILE
from kunren.scorers import Scorecard

INDEX_FILE = ".scorecards.json"
FINGERPRINTED = (EVENTS_FILE, SCENARIO_FILE, META_FILE)
# the code a cached card depends on: scoring, the events it reads, the scenario models
SCORING_CODE = ("kunren.scorers", "kunren.record", "kunren.scenarios")
# what only a drill's own report shows; the trend reads the header and the milestones
REPORT_ONLY = (
    "faults",
    "injects",
    "notices",
    "approval_waits",
    "readiness",
    "gaps",
    "notes",
    "action_items",
    "amendments",
    "timeline",
    "load",
)


def trend_view(card: Scorecard) -> Scorecard:
    """``card`` without the lists only its own report shows: what a series keeps of a drill.

    An earlier drill's card feeds only the trend (its drill, series, start and milestones),
    and the lists it leaves out are most of a big drill's card: hundreds of notices, load
    points, notes. Whether it came from the index or was just scored, a series card has
    this shape.
    """
    return card.model_copy(update={name: [] for name in REPORT_ONLY})


@cache
def scorer_version() -> str:
    """A hash of the source of the packages a card is computed by; changes with any edit."""
    digest = hashlib.sha256()
    for package in SCORING_CODE:
        for name, data in sorted(_sources(package)):
            digest.update(f"{package}/{name}\0".encode())
            digest.update(data)
    return digest.hexdigest()[:16]


def _sources(package: str) -> Iterator[tuple[str, bytes]]:
    for entry in resources.files(package).iterdir():
        if entry.name.endswith(".py") and entry.is_file():
            yield entry.name, entry.read_bytes()


def fingerprint(drill_dir: Path) -> list[list[object]]:
    """Name, size, mtime (ns) and SHA-256 of each file a card is scored from."""
    prints: list[list[object]] = []
    for name in FINGERPRINTED:
        path = drill_dir / name
        try:
            stat = path.stat()
            digest = hashlib.sha256()
            with open(path, "rb") as data:
                for chunk in iter(lambda: data.read(1 << 20), b""):
                    digest.update(chunk)
        except FileNotFoundError:
            prints.append([name, None])
            continue
        prints.append([name, stat.st_size, stat.st_mtime_ns, digest.hexdigest()])
    return prints


class ScorecardCache:
    """The index of one drills folder: ``card`` answers from it or scores, ``save`` writes it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / INDEX_FILE
        self.hits = 0
        self.misses = 0
        self._entries: dict[str, dict[str, object]] = self._load()
        self._changed = False

    def _load(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("scorer") != scorer_version():
            return {}
        drills = data.get("drills")
        return drills if isinstance(drills, dict) else {}

    def card(self, drill_dir: Path, score: Callable[[Path], Scorecard]) -> Scorecard:
        """The trend view of ``drill_dir``'s card: from the index while its files are
        unchanged, else from ``score(drill_dir)``."""
        key = drill_dir.name
        prints = fingerprint(drill_dir)
        entry = self._entries.get(key)
        if entry is not None and entry.get("files") == prints:
            with contextlib.suppress(ValidationError, TypeError):
                # kept as JSON text: pydantic parses that faster than it validates dicts
                card = Scorecard.model_validate_json(str(entry["card"]))
                self.hits += 1
                return card.model_copy(
                    update={"drill": key, "record": str(drill_dir / EVENTS_FILE)}
                )
        self.misses += 1
        card = trend_view(score(drill_dir))
        self._entries[key] = {"files": prints, "card": card.model_dump_json()}
        self._changed = True
        return card

    def save(self) -> None:
        """Write the index if it changed: atomically, and silently not at all if it cannot."""
        if not self._changed:
            return
        payload = {"scorer": scorer_version(), "drills": self._entries}
        with contextlib.suppress(OSError):
            fd, temp = tempfile.mkstemp(prefix=".scorecards-", dir=self.root)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(payload, out, ensure_ascii=False, separators=(",", ":"))
                os.replace(temp, self.path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
        self._changed = False
