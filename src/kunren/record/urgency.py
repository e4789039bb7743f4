"""A short scheduler slice for the threads that write a contended record.

Why: with many writer processes on few cores the fsync itself is fast (0.3 ms on a fast disk)
but the writer that made it waited 1.1-1.8 ms for a core before it could tell the others their
bytes were covered (``bench/record_trace.py`` reads the run-queue delay inside each fsync from
``/proc/thread-self/schedstat``): about one default slice (1.4 ms here) of a writer busy with
its next append. Linux 6.12 and later (EEVDF) take a normal thread's requested slice
(``sched_attr.sched_runtime``, no privilege needed) as a latency hint: a thread that wakes
with a short slice gets a core within about that slice. A thread gets the shortest one (0.1
ms) the first time it takes part in a commit that others wait on, and keeps it: giving it back
after each fsync cost a context switch each time (the kernel moves the thread's deadline, and
whoever runs next preempts it), which took 64 writers with fsync a no-op from ~20,000 to
~7,500 events/s. What it costs a thread that keeps it: shorter turns when it competes with
others for a core (more context switches, never less CPU over time).

A thread alone on its record never asks. Elsewhere (another OS, an older kernel, a seccomp
filter, a batch or real-time thread) nothing changes but speed.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
import threading
from collections.abc import Callable

_SYS_SETATTR = {"x86_64": 314, "aarch64": 274}  # sched_setattr (asm/unistd.h)
SYSCALL = _SYS_SETATTR.get(platform.machine()) if sys.platform.startswith("linux") else None
SHORT_NS = 100_000  # the shortest slice the kernel grants (0.1 ms)


class _SchedAttr(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("sched_policy", ctypes.c_uint32),
        ("sched_flags", ctypes.c_uint64),
        ("sched_nice", ctypes.c_int32),
        ("sched_priority", ctypes.c_uint32),
        ("sched_runtime", ctypes.c_uint64),
        ("sched_deadline", ctypes.c_uint64),
        ("sched_period", ctypes.c_uint64),
    ]


class Urgency:
    """Give the calling thread the short slice, once (``urgent``)."""

    def __init__(self) -> None:
        self._syscall: Callable[..., int] | None = None
        self._asked: set[int] = set()  # threads (native ids) that asked already
        if SYSCALL is None:
            return
        try:
            syscall = ctypes.CDLL(None, use_errno=True).syscall
        except (OSError, AttributeError):
            return
        syscall.restype = ctypes.c_long
        syscall.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_uint]
        self._syscall = syscall

    def urgent(self) -> bool:
        """Ask for the short slice for this thread, unless it did; whether the kernel took it.

        Only for a normal thread: a batch, idle or real-time one keeps what it was given, and
        its nice value is kept as it is.
        """
        thread = threading.get_native_id()
        if self._syscall is None or thread in self._asked:
            return False
        self._asked.add(thread)
        try:
            if os.sched_getscheduler(0) != os.SCHED_OTHER:
                return False
            nice = os.getpriority(os.PRIO_PROCESS, 0)  # this thread's (Linux: nice per thread)
        except OSError:
            return False
        attr = _SchedAttr(ctypes.sizeof(_SchedAttr), os.SCHED_OTHER, 0, nice, 0, SHORT_NS, 0, 0)
        return self._syscall(SYSCALL, 0, ctypes.byref(attr), 0) == 0
