"""No cyclic garbage collection while a command imports its layers.

Importing the layers of ``kunren run`` builds about a hundred pydantic models and as many
dataclasses: hundreds of thousands of container objects, none of them garbage. CPython's
collector counts them as they are allocated and, every 700, walks the young ones, and now and
then every object there is: 117 collections in a tiny ``kunren run --clock virtual``, 25 to
50 ms of its 300 to 450 ms (measured with ``gc.callbacks``, 2026-12-02), for nothing freed.

``paused()`` turns the collector off around such imports and, after them, moves what they made
out of its sight (``gc.freeze``): modules, classes and schemas live as long as the process,
so later collections need not walk them again. Collection is back on when the block ends:
a drill runs for hours and a report scores millions of events, and their cycles must still
be collected. Only imports belong in the block, never a command's work.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """The collector off for the block; what the block made frozen after it (nested: once)."""
    if not gc.isenabled():  # an outer block (or the caller) has it off: leave it to them
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
