"""What every writer of one record shares across processes: ``.events.sync``, one mapped page.

Group commit across processes (the conductor, the page server and ``kunren mark`` are separate
processes) needs three things the file alone cannot give cheaply:

- **How far the log is on disk** (the covered mark): the writer that fsyncs notes the size it
  fsynced, so a writer whose bytes end below the mark returns without an fsync of its own.
- **Something to wait on that is not a lock hand-off.** A writer whose bytes are not covered
  while another writer's fsync is running sleeps on a futex in this page; the fsyncer wakes
  every sleeper at once when it is done, and each sees its bytes covered (or fsyncs the rest
  itself). Waiting in line on a ``flock`` instead hands the lock from sleeper to sleeper, one
  context switch each: with 64 writers that, not the disk, was the cost.
- **The last seq and where it ends** (the tail record): with many writers the log's size has
  almost always changed since a writer's own last append, and re-reading the tail each time
  was the other cost. It is written under the record's write lock, so the next writer only
  checks the file's size against it.

Every record in the page carries the log's inode (a copied or replaced log is not "covered" by
an fsync of another file) and a check word: a writer killed while writing the page leaves a
record that does not check, which is read as "unknown" (no bytes covered, the tail read from
the file), never as a wrong answer. The fsyncer holds ``flock`` on this file while it fsyncs
and moves the mark; a writer that cuts the log (a failed write's partial line, a torn tail set
aside) holds it too, and forgets the page before cutting, so no mark ever covers bytes that
were cut and written again.

Where the page cannot be mapped or there is no futex (not Linux), writers queue on the
``flock`` instead: slower, just as safe. The page is shared through the kernel's page cache,
so writers on several machines appending to one record over a network file system would each
see their own copy: not supported (a drill's writers run on one machine).
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kunren.record.futex import Word

PAGE = 4096
_GEN = 0  # u32 futex word: bumped after each fsync, once a writer has ever slept
_SLEEPERS = 4  # u32: nonzero when a writer may be asleep on _GEN
_COVERED = struct.Struct("<QQQ")  # inode, bytes covered by an fsync, check
_COVERED_AT = 8
_TAIL = struct.Struct("<QQQQ")  # inode, end of the last complete line, its seq, check
_TAIL_AT = 32
_CHECK = 0x6B756E72656E2E31  # "kunren.1": a zeroed or torn record does not check


class SyncPage:
    """The shared page of one record's writers, opened on the first append."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self.fsyncs = 0  # fsyncs this page's owner made (the benchmark's events per fsync)
        self._map: mmap.mmap | None = None
        self._word: Word | None = None
        try:
            if os.fstat(self.fd).st_size < PAGE:
                os.ftruncate(self.fd, PAGE)
            self._map = mmap.mmap(self.fd, PAGE)
        except (OSError, ValueError):  # a filesystem without shared mappings: queue on flock
            return
        from kunren.record import futex  # ctypes, only once a record is written

        self._word = futex.word(self._map, _GEN)

    def close(self) -> None:
        self._word = None  # the futex word points into the map: let go of it first
        if self._map is not None:
            self._map.close()
            self._map = None
        os.close(self.fd)

    def tail(self, inode: int) -> tuple[int, int] | None:
        """``(end, seq)`` of the last line the write-lock holder before us wrote, if known."""
        if self._map is None:
            return None
        ino, end, seq, check = _TAIL.unpack_from(self._map, _TAIL_AT)
        if ino != inode or check != ino ^ end ^ seq ^ _CHECK:
            return None
        return end, seq

    def set_tail(self, inode: int, end: int, seq: int) -> None:
        """Note where the log ends and its last seq (write lock held)."""
        if self._map is not None:
            _TAIL.pack_into(self._map, _TAIL_AT, inode, end, seq, inode ^ end ^ seq ^ _CHECK)

    def covered(self, inode: int) -> int:
        """How many bytes of the log with ``inode`` an fsync is known to have covered."""
        if self._map is None:
            return 0
        ino, size, check = _COVERED.unpack_from(self._map, _COVERED_AT)
        if ino != inode or check != ino ^ size ^ _CHECK:
            return 0
        return int(size)

    def make_durable(self, log_fd: int, inode: int, end: int) -> None:
        """Return once the log's first ``end`` bytes are on disk, fsyncing only if need be.

        The first writer to get the lock fsyncs everything written so far, by anyone; those
        who find it taken sleep until it is done and find their bytes covered.
        """
        word = self._word
        while self.covered(inode) < end:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if word else 0))
            except BlockingIOError:
                assert word is not None
                self._sleep(word, inode, end)
                continue
            try:  # (an fsync that ended since the check above: ours is merely redundant)
                self._fsync(log_fd, inode, end)
            finally:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
                if word is not None and self._get(_SLEEPERS):
                    word.wake_all()
            return

    def _sleep(self, word: Word, inode: int, end: int) -> None:
        """Sleep until the fsync under way is done (or a few ms, in case its writer died).

        The flag first, then the generation, then the mark: an fsyncer that moves the mark
        after we read it finds the flag and bumps the generation, so the sleep ends at once.
        """
        self._set(_SLEEPERS, 1)  # stays set: from now on every fsync bumps and wakes
        generation = self._get(_GEN)
        if self.covered(inode) < end:
            word.wait(generation)

    def _fsync(self, log_fd: int, inode: int, end: int) -> None:
        """fsync the log, then move the mark and the generation (sync lock held).

        The mark moves to the end of the last line written so far (the tail record is written
        after its line, so every byte before it was written before this fsync starts).
        """
        tail = self.tail(inode)
        size = max(end, tail[0]) if tail is not None else end
        try:
            os.fsync(log_fd)
            self._set_covered(inode, size)  # the mark first: a sleeper reads them the other way
        finally:
            self.fsyncs += 1
            if self._get(_SLEEPERS):  # a failed fsync wakes them too, to try their own
                self._set(_GEN, (self._get(_GEN) + 1) & 0xFFFFFFFF)

    @contextmanager
    def cutting(self) -> Iterator[None]:
        """Around cutting the log shorter (write lock held): no mark may cover bytes past the cut.

        It takes the sync lock, so an fsync under way finishes (and moves the mark) first; the
        page is wiped before the cut, so a writer killed in between leaves no mark behind.
        """
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            if self._map is not None:
                self._map[_COVERED_AT : _TAIL_AT + _TAIL.size] = bytes(
                    _TAIL_AT + _TAIL.size - _COVERED_AT
                )
            yield
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def _set_covered(self, inode: int, size: int) -> None:
        if self._map is not None:
            _COVERED.pack_into(self._map, _COVERED_AT, inode, size, inode ^ size ^ _CHECK)

    def _get(self, offset: int) -> int:
        if self._map is None:
            return 0
        (value,) = struct.unpack_from("<I", self._map, offset)
        return int(value)

    def _set(self, offset: int, value: int) -> None:
        if self._map is not None:
            struct.pack_into("<I", self._map, offset, value)
