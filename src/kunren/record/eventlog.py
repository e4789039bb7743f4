"""The append-only drill record: ``drills/<drill-id>/events.jsonl``.

Every event goes through ``EventLog.append``, which assigns the next ``seq``, writes one JSON
line and returns only once an fsync has covered it: an acknowledged event survives a crash.
Writers in several processes (the conductor, the page server, ``kunren mark`` from another
terminal) serialise their writes on an exclusive ``flock`` of a lock file beside the log, so
``seq`` stays strictly increasing and lines never interleave.

Appends that wait share fsyncs (group commit). Inside a process, threads appending while
another writes queue their events, and the writing thread takes them all: one lock, one write,
one fsync (``commitqueue``). Across processes, a writer writes its lines under the lock,
releases it, and makes them durable through the page every writer of the record shares
(``syncpage``): the first writer there fsyncs everything written so far, by anyone, and those
arriving meanwhile sleep until it is done and find their bytes covered. The same page holds
the last seq and where it ends, so a writer need not re-read the tail after another's append.

A write the disk refuses (ENOSPC, EFBIG, EIO) never leaves a partial line: the writer cuts it
off under the lock, and every caller whose events were in that write gets one
``RecordWriteError``. If the fsync fails instead, the lines are cut when nobody wrote after
them; otherwise they stay, unacknowledged (as after a crash between write and fsync): nobody is
told "written" for a line that is not on disk, and no line acknowledged to another is cut.

A crash can leave a torn last line (written, not fsync'd, not acknowledged). Reading reports
it with its line number; appending refuses until ``repair_torn_tail`` has moved the torn bytes
aside (into ``events.torn``) and recorded that it did: never silently merged. A log opened with
``set_aside_torn=True`` (the live conductor's) does that itself under the lock, with a note in
the record: a torn tail found under the lock was left by a writer that died mid-write (a
``kunren mark`` killed, a full disk), and the drill must go on rather than stop with faults
injected.

Reading is ``record/stream.py``'s: ``read_record`` for the whole record, ``read_readable`` for
what ``kunren revert`` can still read of a damaged one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from kunren.errors import EventLogError, RecordWriteError
from kunren.record.commitqueue import Batch, CommitQueue
from kunren.record.events import Event
from kunren.record.lines import line_body, line_with_seq, torn_note, with_seq
from kunren.record.stream import Record, complete_events, read_record
from kunren.record.syncpage import SyncPage
from kunren.record.tail import TornTail, read_tail

EVENTS_FILE = "events.jsonl"
SCENARIO_FILE = "scenario.yaml"
LOCK_FILE = ".events.lock"
SYNC_FILE = ".events.sync"  # the page every writer shares (see syncpage)
TORN_FILE = "events.torn"


class _Files:
    """The files a log keeps open between appends: opened on the first, closed with the log."""

    def __init__(self, drill_dir: Path, log: Path) -> None:
        self.lock = os.open(drill_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self.log = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                self.inode = os.fstat(self.log).st_ino  # an open file keeps its inode
                self.page = SyncPage(drill_dir / SYNC_FILE)
            except OSError:
                os.close(self.log)
                raise
        except OSError:
            os.close(self.lock)
            raise

    def close(self) -> None:
        self.page.close()
        for fd in (self.lock, self.log):
            with suppress(OSError):
                os.close(fd)


class EventLog:
    """One drill's event log. Safe to use from several threads and processes at once."""

    def __init__(self, drill_dir: Path | str, *, set_aside_torn: bool = False) -> None:
        self.drill_dir = Path(drill_dir)
        self.set_aside_torn = set_aside_torn
        self.set_aside: list[TornTail] = []  # torn tails this log moved aside while appending
        self.path = self.drill_dir / EVENTS_FILE
        if not self.drill_dir.is_dir():
            raise EventLogError(f"{self.drill_dir}: no such drill folder")
        self._queue = CommitQueue()
        # The files stay open between appends (opened by the first: a log only read opens none).
        # ``_io`` is held by whichever thread does this log's file work: the queue's leader, a
        # repair, a close.
        self._io = threading.Lock()
        self._files: _Files | None = None
        self._last_end = -1  # where this log's last write ended (the write lock's holder's)
        self._last_seq = 0  # the seq of its last line
        self._finalizer: weakref.finalize[[], EventLog] | None = None

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
            # on disk before the folder is: a revert after a power cut reads it to undo faults
            write_durably(path / SCENARIO_FILE, scenario_text)
            (path / EVENTS_FILE).touch()
            fsync_dir(path)
        except OSError as exc:
            remove_unfinished(path)
            raise creation_error(path, exc) from exc
        return cls(path)

    @property
    def scenario_path(self) -> Path:
        return self.drill_dir / SCENARIO_FILE

    @property
    def fsyncs(self) -> int:
        """How many fsyncs of the log this object made (the rest were shared with others)."""
        return self._files.page.fsyncs if self._files is not None else 0

    def close(self) -> None:
        """Close the files kept open between appends (also done when garbage-collected)."""
        with self._io:
            if self._finalizer is not None:
                self._finalizer()  # closes the files, once
            self._files = self._finalizer = None

    def _open(self) -> _Files:
        """The open files (``_io`` held)."""
        if self._files is None:
            self._files = _Files(self.drill_dir, self.path)
            self._last_end = -1  # (re)opened: vouch for nothing written before
            self._finalizer = weakref.finalize(self, self._files.close)
        return self._files

    @contextmanager
    def _locked(self, files: _Files) -> Iterator[None]:
        fcntl.flock(files.lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(files.lock, fcntl.LOCK_UN)

    def append(self, event: Event) -> Event:
        """Write ``event`` with the next seq; returns it once it is on disk.

        A thread that finds no other thread of this log writing writes it at once, with no
        batch queued (``CommitQueue.run_one``): the single writer's path, which runs once per
        event of every drill. Otherwise it queues behind the writer, as ``append_many``.
        """
        return self._queue.run_one(event, self._append_alone, self._commit)

    def _append_alone(self, event: Event) -> Event:
        with self._io:
            seq = self._commit_lines([line_body(event)], event)
        return with_seq(event, seq)

    def append_many(self, events: list[Event]) -> list[Event]:
        """Write several events in order, with the next seqs; returns them once on disk.

        Batches other threads queue meanwhile go to disk with these, under one lock and one
        fsync; each caller returns only its own events, only once they are durable. A write the
        disk refuses (ENOSPC, EIO, EFBIG) is a ``RecordWriteError`` naming the log, so every
        writer (the conductor, ``kunren mark``, the page) reports it in one line.
        """
        if not events:
            return []
        return self._queue.run(events, self._commit)

    def _commit(self, batches: list[Batch]) -> None:
        """Write every queued batch at once and make it durable (the queue's leader).

        The events are copied with their seqs once the lines are on disk and the locks are
        released: under the write lock, only the seqs are put in front of the lines.
        """
        with self._io:
            bodies = [line_body(event) for batch in batches for event in batch.events]
            first = self._commit_lines(bodies, batches[0].events[0])
        for batch in batches:
            batch.written = [with_seq(event, seq) for seq, event in enumerate(batch.events, first)]
            first += len(batch.events)

    def _commit_lines(self, bodies: list[bytes], first_event: Event) -> int:
        """Write the lines under the write lock and make them durable; their first seq.

        ``bodies`` are the events' ``line_body``, serialised before the lock is taken. A write
        or fsync that fails is a ``RecordWriteError``, and no line of it stays in the log
        unless another writer's lines follow it (``_io`` held).
        """
        try:
            files = self._open()
            fcntl.flock(files.lock, fcntl.LOCK_EX)  # not ``_locked``: this is the hot path
            try:
                start, end, first = self._write_locked(files, bodies, first_event)
                durable = start == self._last_end and self._fsync_alone(files, start, end)
            finally:
                fcntl.flock(files.lock, fcntl.LOCK_UN)
            if not durable:
                try:
                    files.page.make_durable(files.log, files.inode, end)
                except OSError:
                    self._cut_if_last(files, start, end)
                    raise
        except OSError as exc:
            raise write_error(self.path, exc) from exc
        # Only lines that are on disk are this log's last (cut lines never are): the next
        # append vouches for the record only while it still ends here.
        self._last_end, self._last_seq = end, first + len(bodies) - 1
        return first

    def _fsync_alone(self, files: _Files, start: int, end: int) -> bool:
        """fsync under the write lock when this log wrote the line before ours too (lock held).

        A writer alone on the record gains nothing from group commit and would pay its second
        lock; writers that alternate never find their own line last (``fsync_alone``).
        """
        try:
            return files.page.fsync_alone(files.log, files.inode, end)
        except OSError:
            with suppress(OSError):  # our lines are last (the lock is ours): cut them off
                self._cut(files, start)
            raise

    def _last_seq_locked(self, files: _Files, size: int) -> tuple[int, TornTail | None]:
        """The seq of the log's last complete line, and a torn tail after it (lock held).

        The log ending where this log's own last write ended means nobody wrote since (lines
        are only ever cut back to where a complete line ends): its seq is ours. Else the
        page's tail record, if it ends there too; else the file's tail, read.
        """
        if size == self._last_end:
            return self._last_seq, None
        known = files.page.tail(files.inode)
        if known is not None and known[0] == size:
            return known[1], None
        return read_tail(self.path, complete_events)

    def _write_locked(
        self, files: _Files, bodies: list[bytes], first_event: Event
    ) -> tuple[int, int, int]:
        """Start, end and first seq of the lines written (write lock held)."""
        start = os.lseek(files.log, 0, os.SEEK_END)
        last_seq, torn = self._last_seq_locked(files, start)
        lines: list[bytes] = []
        if torn is not None:
            start = self._set_aside(files, torn, start)
            last_seq += 1
            lines.append(line_with_seq(torn_note(torn, first_event), last_seq))
        first = last_seq + 1
        for body in bodies:
            last_seq += 1
            lines.append(b'{"seq":%d,' % last_seq + body)
        data = b"".join(lines)
        try:
            written = os.write(files.log, data)
            if written < len(data):  # short (a disk filling up): the rest, or the error
                _write_all(files.log, memoryview(data)[written:])
        except OSError:
            # A partial write (a full disk) was never acknowledged: cut it off, so the log
            # stays whole and the next writer finds no torn tail of ours.
            with suppress(OSError):
                self._cut(files, start)
            raise
        end = start + len(data)
        files.page.set_tail(files.inode, end, last_seq)
        return start, end, first

    def _set_aside(self, files: _Files, torn: TornTail, size: int) -> int:
        """A torn tail found under the lock: set it aside if this log may, else refuse."""
        if not self.set_aside_torn:
            raise EventLogError(
                f"{self.path}:{torn.line}: torn last line (a crash interrupted a write); "
                "`kunren revert` or `kunren resume` sets it aside before writing"
            )
        self._move_aside(files, torn, size)
        self.set_aside.append(torn)
        return size - len(torn.data)

    def _cut_if_last(self, files: _Files, start: int, end: int) -> None:
        """After a failed fsync: cut our lines off, unless another writer's follow them."""
        with suppress(OSError), self._locked(files):
            if os.fstat(files.log).st_size == end:
                self._cut(files, start)

    @staticmethod
    def _cut(files: _Files, size: int, *, durable: bool = False) -> None:
        """Cut the log to ``size`` bytes (write lock held); no fsync mark survives the cut."""
        with files.page.cutting():
            os.ftruncate(files.log, size)
            if durable:
                os.fsync(files.log)

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
        with self._io:
            files = self._open()
            with self._locked(files):
                _, torn = read_tail(self.path, complete_events)
                if torn is None:
                    return None
                self._move_aside(files, torn, os.fstat(files.log).st_size)
                return torn

    def _move_aside(self, files: _Files, torn: TornTail, size: int) -> None:
        """Copy the torn bytes into ``events.torn``, then cut them from the log (lock held)."""
        with open(self.drill_dir / TORN_FILE, "ab") as aside:
            aside.write(torn.data + b"\n")
            aside.flush()
            os.fsync(aside.fileno())
        self._cut(files, size - len(torn.data), durable=True)


def write_error(path: Path, exc: OSError) -> RecordWriteError:
    """``PATH: cannot write the record: [Errno 28] No space left on device``."""
    code = f"[Errno {exc.errno}] " if exc.errno is not None else ""
    return RecordWriteError(
        f"{path}: cannot write the record: {code}{exc.strerror or exc}", exc.errno
    )


def creation_error(path: Path, exc: OSError) -> EventLogError:
    """The one message for a drill folder that could not be made (a full disk, most often)."""
    return RecordWriteError(
        f"{path}: cannot create the drill folder: {exc.strerror or exc}; nothing was run",
        exc.errno,
    )


def remove_unfinished(path: Path) -> None:
    """Take away a drill folder whose creation failed half-way: no half-made drills."""
    shutil.rmtree(path, ignore_errors=True)


def write_durably(path: Path, text: str) -> None:
    """Write ``path`` whole and fsync it (its folder's entry is the caller's to fsync)."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        written = os.write(fd, view)
        view = view[written:]


def fsync_dir(path: Path) -> None:
    """Make the entries of folder ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
