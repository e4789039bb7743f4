"""The append-only drill record: ``drills/<drill-id>/events.jsonl``.

Every event goes through ``EventLog.append``, which assigns the next ``seq``, writes one JSON
line and fsyncs before returning: an acknowledged event survives a crash. Writers in several
processes (the conductor, ``kunren mark`` from another terminal) serialise on an exclusive
``flock`` of a lock file beside the log, and each re-reads the tail under the lock, so ``seq``
stays strictly increasing and lines never interleave.

A crash can leave a torn last line (written, not fsync'd, not acknowledged). Reading reports
it with its line number; appending refuses until ``repair_torn_tail`` has moved the torn bytes
aside (into ``events.torn``) and recorded that it did: never silently merged. A log opened with
``set_aside_torn=True`` (the live conductor's) does that itself under the lock, with a note in
the record: a torn tail found under the lock was left by a writer that died mid-write (a
``kunren mark`` killed, a full disk), and the drill must go on rather than stop with faults
injected.

``read_readable`` is for ``kunren revert`` on a damaged record: it keeps every line it can
parse and names the ones it cannot, because a revert must undo whatever it can still read.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from kunren.errors import EventLogError, RecordWriteError
from kunren.record.events import Event, Note, parse_event

EVENTS_FILE = "events.jsonl"
SCENARIO_FILE = "scenario.yaml"
LOCK_FILE = ".events.lock"
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


@dataclass(frozen=True)
class BadLine:
    """A complete line that is not a valid event, or whose seq does not follow."""

    line: int
    problem: str


@dataclass(frozen=True)
class Readable:
    """What can still be read of a damaged log, and what cannot (by line number)."""

    events: list[Event]
    bad: list[BadLine]
    torn: TornTail | None


class EventLog:
    """One drill's event log. Safe to use from several processes at once."""

    def __init__(self, drill_dir: Path | str, *, set_aside_torn: bool = False) -> None:
        self.drill_dir = Path(drill_dir)
        self.set_aside_torn = set_aside_torn
        self.set_aside: list[TornTail] = []  # torn tails this log moved aside while appending
        self.path = self.drill_dir / EVENTS_FILE
        self._lock_path = self.drill_dir / LOCK_FILE
        if not self.drill_dir.is_dir():
            raise EventLogError(f"{self.drill_dir}: no such drill folder")
        # The lock and log files stay open between appends, and the log's size and last seq
        # after our own append are remembered: if the size is unchanged when we next hold the
        # lock, nobody else wrote, and the tail need not be read again.
        self._fds: dict[str, int] = {}
        self._known: tuple[int, int] | None = None  # (size, last seq) after our last append
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
        try:
            (path / SCENARIO_FILE).write_text(scenario_text, encoding="utf-8")
            (path / EVENTS_FILE).touch()
            _fsync_dir(path)
        except OSError as exc:
            remove_unfinished(path)
            raise creation_error(path, exc) from exc
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
        """Write several events under one lock and one fsync, in order.

        A write the disk refuses (ENOSPC, EIO, EFBIG) is a ``RecordWriteError`` naming the log,
        so every writer (the conductor, ``kunren mark``, the page) reports it in one line.
        """
        try:
            return self._append_many(events)
        except OSError as exc:
            raise write_error(self.path, exc) from exc

    def _append_many(self, events: list[Event]) -> list[Event]:
        requested = len(events)
        with self._locked():
            fd = self._fd("log", self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            size = os.fstat(fd).st_size
            if self._known is not None and self._known[0] == size:
                last_seq, torn = self._known[1], None
            else:
                last_seq, torn = self._tail()
            if torn is not None and self.set_aside_torn and events:
                self._move_aside(torn)
                self.set_aside.append(torn)
                events = [_torn_note(torn, events[0]), *events]
                size = os.fstat(fd).st_size
            elif torn is not None:
                raise EventLogError(
                    f"{self.path}:{torn.line}: torn last line (a crash interrupted a write); "
                    "`kunren revert` or `kunren resume` sets it aside before writing"
                )
            written: list[Event] = []
            lines = []
            for event in events:
                last_seq += 1
                stamped = event.model_copy(update={"seq": last_seq})
                written.append(stamped)
                lines.append(stamped.model_dump_json() + "\n")
            data = "".join(lines).encode("utf-8")
            try:
                _write_all(fd, data)
                os.fsync(fd)
            except OSError:
                # A partial write (a full disk) was never acknowledged: cut it off, so the log
                # stays whole and the next writer finds no torn tail of ours.
                with suppress(OSError):
                    os.ftruncate(fd, size)
                self._known = None  # read the tail next time
                raise
            self._known = (size + len(data), last_seq)
            return written[len(written) - requested :]

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
        with self._locked():
            _, torn = self._tail()
            if torn is None:
                return None
            self._move_aside(torn)
            return torn

    def _move_aside(self, torn: TornTail) -> None:
        """Copy the torn bytes into ``events.torn``, then cut them from the log (lock held)."""
        size = self.path.stat().st_size
        with open(self.drill_dir / TORN_FILE, "ab") as aside:
            aside.write(torn.data + b"\n")
            aside.flush()
            os.fsync(aside.fileno())
        with open(self.path, "r+b") as log:
            log.truncate(size - len(torn.data))
            log.flush()
            os.fsync(log.fileno())
        self._known = None

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
                line = self._last_complete_line_number()
                raise EventLogError(
                    f"{self.path}:{line}: the last complete line is not a valid event; "
                    "nothing can be appended after it (`kunren revert` still reads the rest)"
                ) from exc
        if not whole_file:
            return self._full_scan_last_seq()
        return 0

    def _full_scan_last_seq(self) -> int:
        events = read_record(self.path).events
        return events[-1].seq if events else 0

    def _line_count(self) -> int:
        with open(self.path, "rb") as log:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: log.read(1 << 16), b"")) + 1

    def _last_complete_line_number(self) -> int:
        """The number of the last non-empty line ending in a newline (for error messages)."""
        lines = self.path.read_bytes().split(b"\n")[:-1]  # the part after the last newline
        return max((n for n, raw in enumerate(lines, 1) if raw), default=0)


def read_record(path: Path) -> Record:
    """Parse ``events.jsonl``: a bad line in the middle is an error naming it."""
    readable = read_readable(path)
    if readable.bad:
        first = readable.bad[0]
        raise EventLogError(f"{path}:{first.line}: {first.problem}")
    return Record(events=readable.events, torn=readable.torn)


def read_readable(path: Path) -> Readable:
    """Every event that can be read, every complete line that cannot, and a torn tail."""
    events: list[Event] = []
    bad: list[BadLine] = []
    torn: TornTail | None = None
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise EventLogError(f"{path}: no event log here") from exc
    except OSError as exc:
        raise EventLogError(f"{path}: cannot read the record: {exc.strerror}") from exc
    lines = raw.split(b"\n")
    last_index = len(lines) - 1
    previous_seq = 0
    for index, line in enumerate(lines):
        if not line:
            continue
        number = index + 1
        if index == last_index:  # no trailing newline: a write that never completed
            torn = TornTail(line=number, data=line)
            break
        try:
            event = parse_event(line)
        except ValidationError as exc:
            bad.append(BadLine(number, f"not a valid event: {_first(exc)}"))
            continue
        if event.seq <= previous_seq:
            bad.append(BadLine(number, f"seq {event.seq} does not follow {previous_seq}"))
            continue
        previous_seq = event.seq
        events.append(event)
    return Readable(events=events, bad=bad, torn=torn)


def write_error(path: Path, exc: OSError) -> RecordWriteError:
    """``PATH: cannot write the record: [Errno 28] No space left on device``."""
    code = f"[Errno {exc.errno}] " if exc.errno is not None else ""
    return RecordWriteError(f"{path}: cannot write the record: {code}{exc.strerror or exc}")


def creation_error(path: Path, exc: OSError) -> EventLogError:
    """The one message for a drill folder that could not be made (a full disk, most often)."""
    return RecordWriteError(
        f"{path}: cannot create the drill folder: {exc.strerror or exc}; nothing was run"
    )


def remove_unfinished(path: Path) -> None:
    """Take away a drill folder whose creation failed half-way: no half-made drills."""
    shutil.rmtree(path, ignore_errors=True)


def _torn_note(torn: TornTail, first: Event) -> Event:
    """The note that says a torn tail was set aside, stamped like the event that found it."""
    return Note(
        text=f"line {torn.line} was torn by a writer that stopped mid-write (never "
        "acknowledged); set aside in events.torn",
        at=first.at,
        wall=first.wall,
    )


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    loc = ".".join(str(part) for part in error["loc"])
    return f"{loc}: {error['msg']}" if loc else str(error["msg"])


def _close_all(fds: dict[str, int]) -> None:
    for fd in fds.values():
        with suppress(OSError):
            os.close(fd)
    fds.clear()


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
