"""The append-only drill record: ``drills/<drill-id>/events.jsonl``.

Every event goes through ``EventLog.append``, which assigns the next ``seq``, writes one JSON
line and fsyncs before returning: an acknowledged event survives a crash. Writers in several
processes (the conductor, ``kunren mark`` from another terminal) serialise on an exclusive
``flock`` of a lock file beside the log, and each re-reads the tail under the lock, so ``seq``
stays strictly increasing and lines never interleave.

Appends that wait share fsyncs (group commit). Inside a process, the thread that gets to
write takes every batch queued meanwhile and writes them all at once. Across processes, a
writer writes its lines under the lock, releases it, then makes them durable under a second
lock (``.events.sync``) that remembers how far the file is known to be on disk: the first writer
to get it fsyncs everything written so far, by anyone, and the writers queued behind it find
their bytes already covered and return without an fsync of their own. Either way an append
returns only once its own bytes are on disk.

A crash can leave a torn last line (written, not fsync'd, not acknowledged). Reading reports
it with its line number; appending refuses until ``repair_torn_tail`` has moved the torn bytes
aside (into ``events.torn``) and recorded that it did: never silently merged.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from kunren.errors import EventLogError
from kunren.record.events import Event, parse_event

EVENTS_FILE = "events.jsonl"
SCENARIO_FILE = "scenario.yaml"
LOCK_FILE = ".events.lock"
SYNC_FILE = ".events.sync"  # holds how many bytes of the log an fsync has covered
TORN_FILE = "events.torn"


@dataclass(frozen=True)
class TornTail:
    line: int
    data: bytes


@dataclass(frozen=True)
class Record:
    """What a log holds: its events and, if a crash tore it, the torn last line."""

    events: list[Event]
    torn: TornTail | None


@dataclass(slots=True)
class _Batch:
    """One caller's events waiting in this process's queue, and what became of them."""

    events: list[Event]
    written: list[Event] = field(default_factory=list)
    error: BaseException | None = None
    done: bool = False


class EventLog:
    """One drill's event log. Safe to use from several processes at once."""

    def __init__(self, drill_dir: Path | str) -> None:
        self.drill_dir = Path(drill_dir)
        self.path = self.drill_dir / EVENTS_FILE
        self._lock_path = self.drill_dir / LOCK_FILE
        if not self.drill_dir.is_dir():
            raise EventLogError(f"{self.drill_dir}: no such drill folder")
        # The lock and log files stay open between appends, and the log's size and last seq
        # after our own append are remembered: if the size is unchanged when we next hold the
        # lock, nobody else wrote, and the tail need not be read again.
        self._fds: dict[str, int] = {}
        self._known: tuple[int, int] | None = None  # (size, last seq) after our last append
        # Group commit inside the process: callers queue their batch, and whichever thread holds
        # ``_writing`` writes every queued batch. ``_queue_lock`` guards only the queue.
        self._queue: list[_Batch] = []
        self._queue_lock = threading.Lock()
        self._writing = threading.Lock()
        self._finalizer = weakref.finalize(self, _close_all, self._fds)

    @classmethod
    def create(cls, drill_dir: Path | str, scenario_text: str) -> EventLog:
        """A new drill folder holding an empty log and the snapshot of its scenario."""
        path = Path(drill_dir)
        try:
            path.mkdir(parents=True, exist_ok=False)
        except FileExistsError as exc:
            raise EventLogError(f"{path}: drill folder exists already") from exc
        except OSError as exc:
            raise EventLogError(f"{path}: cannot create drill folder: {exc.strerror}") from exc
        (path / SCENARIO_FILE).write_text(scenario_text, encoding="utf-8")
        (path / EVENTS_FILE).touch()
        _fsync_dir(path)
        return cls(path)

    @property
    def scenario_path(self) -> Path:
        return self.drill_dir / SCENARIO_FILE

    def close(self) -> None:
        """Close the files kept open between appends (also done when garbage-collected)."""
        _close_all(self._fds)

    def _fd(self, name: str, path: Path, flags: int) -> int:
        fd = self._fds.get(name)
        if fd is None:
            fd = os.open(path, flags, 0o644)
            self._fds[name] = fd
        return fd

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = self._fd("lock", self._lock_path, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def append(self, event: Event) -> Event:
        """Write ``event`` with the next seq; returns it once it is on disk."""
        return self.append_many([event])[0]

    def append_many(self, events: list[Event]) -> list[Event]:
        """Write several events in order, with the next seqs; returns them once on disk.

        Batches other threads queue meanwhile go to disk with this one, under one lock and one
        fsync; each caller still returns only its own events, and only once they are durable.
        """
        batch = _Batch(events)
        with self._queue_lock:
            self._queue.append(batch)
        with self._writing:
            if not batch.done:  # nobody wrote it while we waited: write everything queued
                with self._queue_lock:
                    batches, self._queue = self._queue, []
                try:
                    self._commit(batches)
                except BaseException as exc:
                    for each in batches:
                        each.error = exc
                        each.done = True
                    raise
                for each in batches:
                    each.done = True
        if batch.error is not None:
            raise batch.error
        return batch.written

    def _commit(self, batches: list[_Batch]) -> None:
        """Write ``batches`` under the lock, then make them durable (``_sync``)."""
        with self._locked():
            fd = self._fd("log", self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            size = os.fstat(fd).st_size
            if self._known is not None and self._known[0] == size:
                last_seq, torn = self._known[1], None
            else:
                last_seq, torn = self._tail()
            if torn is not None:
                raise EventLogError(
                    f"{self.path}:{torn.line}: torn last line (a crash interrupted a write); "
                    "`kunren revert` or `kunren resume` sets it aside before writing"
                )
            lines = []
            for batch in batches:
                for event in batch.events:
                    last_seq += 1
                    stamped = event.model_copy(update={"seq": last_seq})
                    batch.written.append(stamped)
                    lines.append(stamped.model_dump_json() + "\n")
            data = "".join(lines).encode("utf-8")
            try:
                _write_all(fd, data)
            except OSError:
                self._known = None  # a partial write: read the tail next time
                raise
            self._known = (size + len(data), last_seq)
        self._sync(fd, size + len(data))

    def _sync(self, fd: int, end: int) -> None:
        """Return once the log's first ``end`` bytes are on disk, fsyncing only if need be.

        Under the sync lock, the mark says how many bytes of which file (its inode: a copied or
        replaced log starts uncovered) an fsync has covered. If another
        writer's fsync already covered ``end``, there is nothing to do; otherwise fsync the
        whole file (every writer's bytes so far, not only ours) and move the mark.
        """
        sync = self._fd("sync", self.drill_dir / SYNC_FILE, os.O_RDWR | os.O_CREAT)
        fcntl.flock(sync, fcntl.LOCK_EX)
        try:
            stat = os.fstat(fd)  # everything written before this fsync starts
            if _read_mark(sync, stat.st_ino) >= end:
                return
            os.fsync(fd)
            os.pwrite(sync, _mark(stat.st_ino, stat.st_size), 0)
        finally:
            fcntl.flock(sync, fcntl.LOCK_UN)

    def _forget_sync_mark(self) -> None:
        """After the log is cut shorter, no byte beyond the cut is covered by an old fsync."""
        sync = self._fd("sync", self.drill_dir / SYNC_FILE, os.O_RDWR | os.O_CREAT)
        fcntl.flock(sync, fcntl.LOCK_EX)
        try:
            os.pwrite(sync, _mark(0, 0), 0)
        finally:
            fcntl.flock(sync, fcntl.LOCK_UN)

    def read(self) -> list[Event]:
        """Every event; a torn last line is an error naming its line."""
        record = self.read_record()
        if record.torn is not None:
            raise EventLogError(
                f"{self.path}:{record.torn.line}: torn last line (a crash interrupted a write)"
            )
        return record.events

    def read_record(self) -> Record:
        """Every complete event, and the torn last line if there is one."""
        return read_record(self.path)

    def repair_torn_tail(self) -> TornTail | None:
        """Move a torn last line into ``events.torn`` and cut it from the log."""
        with self._writing, self._locked():
            _, torn = self._tail()
            if torn is None:
                return None
            size = self.path.stat().st_size
            with open(self.drill_dir / TORN_FILE, "ab") as aside:
                aside.write(torn.data + b"\n")
                aside.flush()
                os.fsync(aside.fileno())
            with open(self.path, "r+b") as log:
                log.truncate(size - len(torn.data))
                log.flush()
                os.fsync(log.fileno())
            self._forget_sync_mark()
            self._known = None
            return torn

    def _tail(self) -> tuple[int, TornTail | None]:
        """The last complete seq and the torn tail, reading only the end of the file."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return 0, None
        if size == 0:
            return 0, None
        with open(self.path, "rb") as log:
            chunk = 4096
            data = b""
            pos = size
            while pos > 0:
                step = min(chunk, pos)
                pos -= step
                log.seek(pos)
                data = log.read(step) + data
                if data.count(b"\n") >= 2 or pos == 0:
                    break
                chunk *= 2
        lines = data.split(b"\n")
        last = lines[-1]
        if last:  # no newline at the end: the last write never completed
            return self._last_complete_seq(lines[:-1], pos == 0), TornTail(
                line=self._line_count(), data=last
            )
        complete = [line for line in lines[:-1] if line]
        return self._last_complete_seq(complete, pos == 0), None

    def _last_complete_seq(self, lines: list[bytes], whole_file: bool) -> int:
        candidates = lines if whole_file else lines[1:]  # first may be a partial line
        for raw in reversed(candidates):
            if not raw:
                continue
            try:
                return int(json.loads(raw)["seq"])
            except (ValueError, KeyError, TypeError) as exc:
                raise EventLogError(f"{self.path}: unreadable line near the end") from exc
        if not whole_file:
            return self._full_scan_last_seq()
        return 0

    def _full_scan_last_seq(self) -> int:
        events = read_record(self.path).events
        return events[-1].seq if events else 0

    def _line_count(self) -> int:
        with open(self.path, "rb") as log:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: log.read(1 << 16), b"")) + 1


def read_record(path: Path) -> Record:
    """Parse ``events.jsonl``: a bad line in the middle is an error naming it."""
    events: list[Event] = []
    torn: TornTail | None = None
    try:
        log = open(path, "rb")  # noqa: SIM115 - closed below; line by line, never all at once
    except FileNotFoundError as exc:
        raise EventLogError(f"{path}: no event log here") from exc
    previous_seq = 0
    with log:
        for number, line in enumerate(log, start=1):
            if not line.endswith(b"\n"):  # no newline: a write that never completed
                torn = TornTail(line=number, data=line)
                break
            if line == b"\n":
                continue
            try:
                event = parse_event(line)
            except ValidationError as exc:
                raise EventLogError(f"{path}:{number}: not a valid event: {_first(exc)}") from exc
            if event.seq <= previous_seq:
                raise EventLogError(
                    f"{path}:{number}: seq {event.seq} does not follow {previous_seq}"
                )
            previous_seq = event.seq
            events.append(event)
    return Record(events=events, torn=torn)


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    loc = ".".join(str(part) for part in error["loc"])
    return f"{loc}: {error['msg']}" if loc else str(error["msg"])


def _close_all(fds: dict[str, int]) -> None:
    for fd in fds.values():
        with suppress(OSError):
            os.close(fd)
    fds.clear()


def _mark(inode: int, covered: int) -> bytes:
    return inode.to_bytes(8, "little") + covered.to_bytes(8, "little")


def _read_mark(fd: int, inode: int) -> int:
    """How many bytes of the log with ``inode`` an fsync has covered (0 if not this log)."""
    raw = os.pread(fd, 16, 0)
    if len(raw) != 16 or int.from_bytes(raw[:8], "little") != inode:
        return 0
    return int.from_bytes(raw[8:], "little")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
