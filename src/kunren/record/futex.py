"""A futex word in a shared file mapping: sleep until it changes, wake every sleeper or one.

Why a futex: the writers of one record (threads and processes) that wait for another writer's
fsync must all be released by one call when it ends. A lock released to its waiters one at a
time costs a context switch per waiter; a futex wake releases them together, and a sleeper
whose word has already changed does not sleep at all. Linux only (the word sits in a
``MAP_SHARED`` file mapping, so the kernel matches waiters across processes by file and
offset); elsewhere ``word`` returns None and the caller queues on a ``flock`` instead.

The wait is bounded (``TIMEOUT_NS``): a writer killed during its fsync never bumps the word,
and its sleepers must notice the lock it held is free again. A wake is never needed for
correctness, only for speed: a sleeper re-checks what it waits for whenever it wakes.
"""

from __future__ import annotations

import ctypes
import mmap
import platform
import sys
from collections.abc import Callable

TIMEOUT_NS = 5_000_000  # 5 ms
_FUTEX_WAIT, _FUTEX_WAKE = 0, 1  # shared (not FUTEX_PRIVATE_FLAG): across processes
_SYS_FUTEX = {"x86_64": 202, "aarch64": 98}  # syscall numbers (asm/unistd.h)
SYSCALL = _SYS_FUTEX.get(platform.machine()) if sys.platform.startswith("linux") else None
_WAKE_ALL = 0x7FFFFFFF


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class Word:
    """The 32-bit word at ``offset`` of a shared mapping, as a futex."""

    def __init__(
        self, syscall: Callable[..., int], number: int, page: mmap.mmap, offset: int
    ) -> None:
        self._syscall = syscall
        self._number = number
        self._value = ctypes.c_uint32.from_buffer(page, offset)  # keeps the map alive
        self._address = ctypes.c_void_p(ctypes.addressof(self._value))
        self._timeout = _Timespec(0, TIMEOUT_NS)

    def wait(self, expected: int) -> None:
        """Sleep while the word still holds ``expected`` (returns at once if it does not)."""
        self._syscall(
            self._number,
            self._address,
            _FUTEX_WAIT,
            expected,
            ctypes.byref(self._timeout),
            None,
            0,
        )

    def wake_all(self) -> None:
        self._syscall(self._number, self._address, _FUTEX_WAKE, _WAKE_ALL, None, None, 0)

    def wake_one(self) -> None:
        self._syscall(self._number, self._address, _FUTEX_WAKE, 1, None, None, 0)


def word(page: mmap.mmap, offset: int) -> Word | None:
    """The futex at ``offset`` of ``page``, or None where futexes cannot be used."""
    number = SYSCALL
    if number is None:
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syscall = libc.syscall
    except (OSError, AttributeError):
        return None
    syscall.restype = ctypes.c_long  # the GIL is released while a CDLL call sleeps
    # long syscall(long number, ...): every argument a full register, on both machines above
    syscall.argtypes = [ctypes.c_long, ctypes.c_void_p, ctypes.c_long, ctypes.c_long]
    syscall.argtypes += [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long]
    return Word(syscall, number, page, offset)
