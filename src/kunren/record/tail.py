"""The end of a record, read without reading the whole: its last seq, and a torn last line.

A writer that finds the log changed by someone it cannot vouch for (another process, a crash)
reads the tail under the write lock to learn the next seq. Only the last few KB are read; the
whole file only when one line is longer than that, or to number a line for an error message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kunren.errors import EventLogError
from kunren.record.events import Event


@dataclass(frozen=True)
class TornTail:
    line: int
    data: bytes


def read_tail(
    path: Path, read_events: Callable[[Path], list[Event]]
) -> tuple[int, TornTail | None]:
    """The last complete seq and the torn tail, reading only the end of the file.

    ``read_events`` reads every complete event: for the rare line longer than the end read.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0, None
    if size == 0:
        return 0, None
    with open(path, "rb") as log:
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
        seq = _last_complete_seq(path, lines[:-1], pos == 0, read_events)
        return seq, TornTail(line=_line_count(path), data=last)
    complete = [line for line in lines[:-1] if line]
    return _last_complete_seq(path, complete, pos == 0, read_events), None


def _last_complete_seq(
    path: Path, lines: list[bytes], whole_file: bool, read_events: Callable[[Path], list[Event]]
) -> int:
    candidates = lines if whole_file else lines[1:]  # first may be a partial line
    for raw in reversed(candidates):
        if not raw:
            continue
        try:
            return int(json.loads(raw)["seq"])
        except (ValueError, KeyError, TypeError) as exc:
            line = _last_complete_line_number(path)
            raise EventLogError(
                f"{path}:{line}: the last complete line is not a valid event; "
                "nothing can be appended after it (`kunren revert` still reads the rest)"
            ) from exc
    if not whole_file:
        events = read_events(path)
        return events[-1].seq if events else 0
    return 0


def _line_count(path: Path) -> int:
    with open(path, "rb") as log:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: log.read(1 << 16), b"")) + 1


def _last_complete_line_number(path: Path) -> int:
    """The number of the last non-empty line ending in a newline (for error messages)."""
    lines = path.read_bytes().split(b"\n")[:-1]  # the part after the last newline
    return max((n for n, raw in enumerate(lines, 1) if raw), default=0)
