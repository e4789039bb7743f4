"""What a series needs of its earlier drills, kept between runs so they are not read again.

The end-of-run report and ``kunren trend`` show the trend of a whole series; a drill that
ended does not change, so re-reading every earlier record made each run slower than the last
as the drills folder grew. Each drills folder keeps ``.scorecards.json``: per drill folder,
the stamp of each file its score comes from (the record, the scenario snapshot, the metadata),
the series its record names, and its ``DrillSummary``: the few numbers the trend shows, with
their labels (live, imported or tabletop; which clock; simulated people), not the whole card.

A file's stamp is its size, mtime, ctime and inode, and its SHA-256. A warm run only stats
the files: while size, mtime_ns, ctime_ns and inode are all unchanged, the file is taken to be
unchanged. That is safe for what kunren writes: the record is append-only (every append
changes its size and mtime), the snapshot and metadata are written once or replaced by a
rename (a new inode), and ctime cannot be set back by a program (``touch`` or a restore that
puts back an old mtime still moves it). When any of them changed, the file is hashed: the same
SHA-256 keeps the summary (a copied or restored drills folder, a ``touch``), another one
scores the drill again. The summaries are also invalidated by any change to the code that
scores (a hash of ``kunren.scorers``, ``kunren.record`` and ``kunren.scenarios``).

The index is only a cache: a damaged, foreign or unwritable one is ignored and rebuilt, never
an error. It is replaced atomically (written beside, then renamed over), so a run reading it
while another writes sees one whole version or the other.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, ValidationError

from kunren.record.eventlog import EVENTS_FILE, SCENARIO_FILE
from kunren.record.folders import META_FILE
from kunren.scorers import Scorecard
from kunren.scorers.trend import DrillSummary, summarize

INDEX_FILE = ".scorecards.json"
INDEX_FORMAT = 2  # 1: whole trend-view cards keyed by size, mtime and hash
FINGERPRINTED = (EVENTS_FILE, SCENARIO_FILE, META_FILE)
# the code a summary depends on: scoring, the events it reads, the scenario models
SCORING_CODE = ("kunren.scorers", "kunren.record", "kunren.scenarios")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Stat(NamedTuple):
    """What a warm run compares of a file: size, mtime, ctime, inode (no hash); size None:
    the file does not exist."""

    size: int | None
    mtime_ns: int = 0
    ctime_ns: int = 0
    inode: int = 0


class FileStamp(_Model):
    """One file a summary was scored from, as it was then; ``size`` None: it did not exist."""

    name: str
    size: int | None = None
    mtime_ns: int = 0
    ctime_ns: int = 0
    inode: int = 0
    sha256: str | None = None  # None: not hashed (a drill only looked at for its series)

    @property
    def stat(self) -> Stat:
        return Stat(self.size, self.mtime_ns, self.ctime_ns, self.inode)

    @classmethod
    def of(cls, name: str, stat: Stat, sha256: str | None = None) -> FileStamp:
        return cls(
            name=name,
            size=stat.size,
            mtime_ns=stat.mtime_ns,
            ctime_ns=stat.ctime_ns,
            inode=stat.inode,
            sha256=sha256,
        )


class IndexEntry(_Model):
    files: list[FileStamp]
    series: str | None = None  # the scenario id in drill.started; None: not a readable record
    summary: DrillSummary | None = None  # None: not scored yet (another series was asked for)


class IndexFile(_Model):
    format: Literal[2]
    scorer: str
    drills: dict[str, IndexEntry]


@cache
def scorer_version() -> str:
    """A hash of the source of the packages a summary is computed by; changes with any edit."""
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


def stat_of(path: str) -> Stat:
    """``path``'s stat (a string: hundreds of these per run, pathlib would be most of it)."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return Stat(None)
    return Stat(stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def sha256_of(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as data:
            for chunk in iter(lambda: data.read(1 << 20), b""):
                digest.update(chunk)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


class SeriesIndex:
    """The index of one drills folder: ``summary`` answers from it or scores, ``save`` writes.

    ``hits`` counts drills answered from the index, ``misses`` drills scored, ``hashed`` files
    whose stat had changed and were hashed to tell.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        # resolved once: a drill is known by this and its folder name (resolving each of
        # hundreds of drill folders costs more than reading the index)
        self.root_resolved = root.resolve()
        self.path = root / INDEX_FILE
        self.hits = 0
        self.misses = 0
        self.hashed = 0
        self._entries: dict[str, IndexEntry] = self._load()
        self._record_stats: dict[str, Stat] = {}
        self._changed = False

    def _load(self) -> dict[str, IndexEntry]:
        try:
            index = IndexFile.model_validate_json(self.path.read_bytes())
        except (OSError, ValueError, ValidationError):
            return {}
        return dict(index.drills) if index.scorer == scorer_version() else {}

    def series(self, drill_dir: Path, read: Callable[[Path], str | None]) -> str | None:
        """The series ``drill_dir``'s record names (None: not a drill): from the index while
        the record's stat is unchanged, else from ``read``. A changed record's entry is left
        as it is: only ``summary`` may stamp it again, after checking what changed."""
        record = stat_of(os.path.join(drill_dir, EVENTS_FILE))
        if record.size is None:
            return None
        self._record_stats[drill_dir.name] = record  # summary() need not stat it again
        entry = self._entries.get(drill_dir.name)
        if entry is not None and entry.files and entry.files[0].stat == record:
            return entry.series
        series = read(drill_dir)
        if entry is None or entry.summary is None:
            files = [FileStamp.of(EVENTS_FILE, record)]
            self._entries[drill_dir.name] = IndexEntry(files=files, series=series)
            self._changed = True
        return series

    def summary(self, drill_dir: Path, score: Callable[[Path], Scorecard]) -> DrillSummary:
        """``drill_dir``'s summary: from the index while its files are unchanged, else from
        ``score(drill_dir)``."""
        key = drill_dir.name
        folder = os.fspath(drill_dir)
        record = self._record_stats.pop(key, None) or stat_of(os.path.join(folder, EVENTS_FILE))
        # every stat before reading anything: a file that changes meanwhile differs next time
        now = [record, *(stat_of(os.path.join(folder, name)) for name in FINGERPRINTED[1:])]
        entry = self._entries.get(key)
        if entry is not None and entry.summary is not None:
            files = self._unchanged(drill_dir, entry.files, now)
            if files is not None:
                self.hits += 1
                if files != entry.files:
                    self._entries[key] = entry.model_copy(update={"files": files})
                    self._changed = True
                return entry.summary
        self.misses += 1
        card = score(drill_dir)
        hashed = [
            FileStamp.of(name, stat, None if stat.size is None else sha256_of(drill_dir / name))
            for name, stat in zip(FINGERPRINTED, now, strict=True)
        ]
        summary = summarize(card)
        self._entries[key] = IndexEntry(files=hashed, series=card.series, summary=summary)
        self._changed = True
        return summary

    def _unchanged(
        self, drill_dir: Path, before: list[FileStamp], now: list[Stat]
    ) -> list[FileStamp] | None:
        """The stamps to keep when every file is as it was (hashing those whose stat moved),
        or None when one differs."""
        if [s.name for s in before] != list(FINGERPRINTED):
            return None
        kept = []
        for old, new in zip(before, now, strict=True):
            if old.stat == new:
                kept.append(old)
                continue
            if old.sha256 is None or old.size != new.size:
                return None
            self.hashed += 1
            digest = sha256_of(drill_dir / old.name)
            if digest != old.sha256:
                return None
            kept.append(FileStamp.of(old.name, new, digest))
        return kept

    def forget_missing(self, present: set[str]) -> None:
        """Drop the entries of drill folders no longer in the folder (only after a full scan)."""
        gone = [name for name in self._entries if name not in present]
        for name in gone:
            del self._entries[name]
        self._changed = self._changed or bool(gone)

    def save(self) -> None:
        """Write the index if it changed: atomically, and silently not at all if it cannot.

        A folder where no drill had to be summarised (one drill alone, the first of its
        series) gets no index: the series of a few records is cheap to read.
        """
        if not self._changed:
            return
        if not any(e.summary for e in self._entries.values()) and not self.path.exists():
            self._changed = False
            return
        payload = IndexFile(format=INDEX_FORMAT, scorer=scorer_version(), drills=self._entries)
        with contextlib.suppress(OSError):
            fd, temp = tempfile.mkstemp(prefix=".scorecards-", dir=self.root)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(payload.model_dump_json(exclude_defaults=True).encode())
                os.replace(temp, self.path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
        self._changed = False
