"""What every writer of one record shares across processes: ``.events.sync``, one mapped page.

Group commit across processes (the conductor, the page server and ``kunren mark`` are separate
processes) needs three things the file alone cannot give cheaply:

- **How far the log is on disk** (the covered mark): the writer that fsyncs notes the size it
  fsynced, so a writer whose bytes end below the mark returns without an fsync of its own.
- **Something to wait on that is not a lock hand-off.** A writer whose bytes are not covered
  while another writer's fsync is running sleeps on a futex in this page, on the word of the
  fsync that will cover it: the running one if its bytes were written before it started (the
  fsyncer notes what it covers, and its number, before it starts), else the next. When fsync
  number N ends, its fsyncer wakes every sleeper on N's word (all covered) and one sleeper on
  N+1's, who makes the next fsync for the rest: nobody is woken to find its bytes not yet on
  disk. It moves N+1's word as well, so a writer on its way to sleep for N+1 does not sleep
  through that one wake. Waiting in line on a ``flock`` instead hands the lock from sleeper
  to sleeper, one context switch each; waking every sleeper after each fsync (the earlier
  design) woke the ones not yet covered too, each to take a core for nothing while the
  fsyncer waited for one.
- **The last seq and where it ends** (the tail record): with many writers the log's size has
  almost always changed since a writer's own last append, and re-reading the tail each time
  was the other cost. It is written under the record's write lock, so the next writer only
  checks the file's size against it.

Every record in the page carries the log's inode (a copied or replaced log is not "covered" by
an fsync of another file) and a check word: a writer killed while writing the page leaves a
record that does not check, which is read as "unknown" (no bytes covered, the tail read from
the file), never as a wrong answer. The fsyncer holds ``flock`` on this file while it fsyncs
and moves the mark (or, for a writer alone on the record, the write lock: ``fsync_alone``); a
writer that cuts the log (a failed write's partial line, a torn tail set aside) holds both,
and forgets the page before cutting, so no mark ever covers bytes that were cut and written
again.

Where the page cannot be mapped or there is no futex (not Linux), writers queue on the
``flock`` instead: slower, just as safe. The page is shared through the kernel's page cache,
so writers on several machines appending to one record over a network file system would each
see their own copy: not supported (a drill's writers run on one machine).
"""

from __future__ import annotations

import contextlib
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
_DONE = 0  # u32: the number of the last fsync that ended (mod 2**32), moved under the sync lock
_SLEEPERS = 4  # u32: nonzero once a writer of this record has slept (then fsyncers wake)
_COVERED = struct.Struct("<QQQ")  # inode, bytes covered by an fsync, check
_COVERED_AT = 8
_TAIL = struct.Struct("<QQQQ")  # inode, end of the last complete line, its seq, check
_TAIL_AT = 32
_TARGET = struct.Struct("<QQQQ")  # inode, bytes the fsync under way covers, its number, check
_TARGET_AT = 64
_SLOTS_AT = 96  # SLOTS u32 futex words: word N % SLOTS is moved and woken when fsync N ends
SLOTS = 4
_CHECK = 0x6B756E72656E2E31  # "kunren.1": a zeroed or torn record does not check
_MASK = 0xFFFFFFFF


class SyncPage:
    """The shared page of one record's writers, opened on the first append."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self.fsyncs = 0  # fsyncs this page's owner made (the benchmark's events per fsync)
        self._map: mmap.mmap | None = None
        self._words: list[Word] = []  # one per slot; empty: queue on the flock instead
        try:
            if os.fstat(self.fd).st_size < PAGE:
                os.ftruncate(self.fd, PAGE)
            self._map = mmap.mmap(self.fd, PAGE)
        except (OSError, ValueError):  # a filesystem without shared mappings: queue on flock
            return
        from kunren.record import futex  # ctypes, only once a record is written

        words = [futex.word(self._map, _SLOTS_AT + 4 * n) for n in range(SLOTS)]
        if all(word is not None for word in words):
            self._words = [word for word in words if word is not None]

    def close(self) -> None:
        self._words = []  # the futex words point into the map: let go of them first
        if self._map is not None:
            # BufferError: a word is still held elsewhere (by a failed fsync's traceback); the
            # map is unmapped when the last of them goes
            with contextlib.suppress(BufferError):
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
        who find it taken sleep until the fsync that covers them is done.
        """
        words = self._words
        while self.covered(inode) < end:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if words else 0))
            except BlockingIOError:
                self._sleep(inode, end)
                continue
            number: int | None = None
            try:  # (an fsync that ended since the check above: ours is merely redundant)
                number, size = self._begin(inode, end)
                self._fsync(log_fd, inode, size, number)
            finally:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
                if number is not None and words and self._get(_SLEEPERS):
                    self._wake(number)  # a failed fsync wakes them too, to try their own
            return

    def fsync_alone(self, log_fd: int, inode: int, end: int) -> bool:
        """fsync under the write lock, for a writer alone on the record; False if not alone.

        Alone: no writer of this record has ever slept waiting for an fsync (so no wake is
        owed to anyone). The mark moves as after any fsync; the fsync numbers do not (they
        belong to the sync lock's holders), and an fsync under way under it may set the mark
        back to what it covered: lower, never wrong.
        """
        if not self._words or self._get(_SLEEPERS):
            return False
        os.fsync(log_fd)
        self.fsyncs += 1
        self._set_covered(inode, end)
        return True

    def _sleep(self, inode: int, end: int) -> None:
        """Sleep until the fsync that covers ``end`` is done (or a few ms, if its writer died).

        The word's value first, then the mark, then the number of the last fsync that ended:
        an fsync that ends after the value was read moves the word, so the sleep ends at once;
        one that ended before is seen in the mark or the number, and we look again.
        """
        self._set(_SLEEPERS, 1)  # stays set: from now on fsyncers wake
        target = self._target(inode)
        if target is None:
            need = (self._get(_DONE) + 1) & _MASK
        else:
            size, number = target
            need = number if end <= size else (number + 1) & _MASK
        at = _SLOTS_AT + 4 * (need % SLOTS)
        value = self._get(at)
        if self.covered(inode) >= end or _reached(self._get(_DONE), need):
            return
        self._words[need % SLOTS].wait(value)

    def _begin(self, inode: int, end: int) -> tuple[int, int]:
        """The next fsync's number and how far it covers, noted for sleepers (sync lock held).

        It covers the end of the last line written so far (the tail record is written after
        its line, so every byte before it was written before this fsync starts).
        """
        tail = self.tail(inode)
        size = max(end, tail[0]) if tail is not None else end
        number = (self._get(_DONE) + 1) & _MASK
        self._set_target(inode, size, number)
        return number, size

    def _fsync(self, log_fd: int, inode: int, size: int, number: int) -> None:
        """fsync the log, then move the mark and the number (sync lock held)."""
        try:
            os.fsync(log_fd)
            self._set_covered(inode, size)  # the mark first: a sleeper reads them the other way
        finally:
            self.fsyncs += 1
            self._set(_DONE, number)

    def _wake(self, number: int) -> None:
        """Wake the sleepers fsync ``number`` covered, and one to make the next fsync.

        The next fsync's word moves too, before the wakes: a writer that read it on its way to
        sleep for that fsync (its bytes written after this one began) and is not asleep yet
        would miss the one wake and sleep out its timeout, with nobody fsyncing its bytes. Its
        futex call now returns at once and it takes the sync lock itself. Those already asleep
        on it are not woken by the move: only the one ``wake_one`` picks.
        """
        at = _SLOTS_AT + 4 * (number % SLOTS)
        following = _SLOTS_AT + 4 * ((number + 1) % SLOTS)
        self._set(at, (self._get(at) + 1) & _MASK)
        self._set(following, (self._get(following) + 1) & _MASK)
        self._words[number % SLOTS].wake_all()
        self._words[(number + 1) % SLOTS].wake_one()

    @contextmanager
    def cutting(self) -> Iterator[None]:
        """Around cutting the log shorter (write lock held): no mark may cover bytes past the cut.

        It takes the sync lock, so an fsync under way finishes (and moves the mark) first; the
        page is wiped before the cut, so a writer killed in between leaves no mark behind.
        """
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            if self._map is not None:
                self._map[_COVERED_AT:_SLOTS_AT] = bytes(_SLOTS_AT - _COVERED_AT)
            yield
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def _set_covered(self, inode: int, size: int) -> None:
        if self._map is not None:
            _COVERED.pack_into(self._map, _COVERED_AT, inode, size, inode ^ size ^ _CHECK)

    def _target(self, inode: int) -> tuple[int, int] | None:
        """``(size, number)`` of the fsync under way (or the last one), if known."""
        if self._map is None:
            return None
        ino, size, number, check = _TARGET.unpack_from(self._map, _TARGET_AT)
        if ino != inode or check != ino ^ size ^ number ^ _CHECK:
            return None
        return size, number

    def _set_target(self, inode: int, size: int, number: int) -> None:
        if self._map is not None:
            check = inode ^ size ^ number ^ _CHECK
            _TARGET.pack_into(self._map, _TARGET_AT, inode, size, number, check)

    def _get(self, offset: int) -> int:
        if self._map is None:
            return 0
        (value,) = struct.unpack_from("<I", self._map, offset)
        return int(value)

    def _set(self, offset: int, value: int) -> None:
        if self._map is not None:
            struct.pack_into("<I", self._map, offset, value)


def _reached(done: int, need: int) -> bool:
    """Fsync number ``done`` is ``need`` or later (numbers wrap at 2**32)."""
    return ((done - need) & _MASK) < 1 << 31
