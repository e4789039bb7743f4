"""Reading a drill record one line at a time, for readers that must not hold it whole.

``EventLog.read`` returns every event as a list: right for the conductor, `kunren revert` and
the page, whose records are small. A company-wide game day records a million events, and a
report that held them all as models peaked at ten times the record's size. The scorer reads
the record through ``iter_events`` instead, which parses one line, hands the event on and
forgets it, with the same errors as ``EventLog.read``: a line that is not an event, a seq that
does not follow, or a torn last line names the file and the line, and nothing is scored.

Amendments move earlier events in time, so the scorer must know them before it meets their
targets: ``amendments_in`` finds them in a first, cheap pass that parses only the lines that
can be one.

``read_record`` is the whole record at once (``EventLog.read``), and ``read_readable`` what can
still be read of a damaged one: ``kunren revert`` must undo whatever it can still read, so it
keeps every line it can parse and names the ones it cannot.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from io import BufferedReader
from pathlib import Path

from pydantic import ValidationError

from kunren.errors import EventLogError
from kunren.record.events import Amendment, Event, parse_event
from kunren.record.tail import TornTail


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


def complete_events(path: Path) -> list[Event]:
    """Every complete event (for ``read_tail``, when one line is longer than its read)."""
    return read_record(path).events


def read_record(path: Path) -> Record:
    """Parse ``events.jsonl``: a bad line in the middle is an error naming it."""
    events: list[Event] = []
    torn: TornTail | None = None
    for number, read in _walk(path):
        if isinstance(read, TornTail):
            torn = read
        elif isinstance(read, str):
            raise EventLogError(f"{path}:{number}: {read}")
        else:
            events.append(read)
    return Record(events=events, torn=torn)


def read_readable(path: Path) -> Readable:
    """Every event that can be read, every complete line that cannot, and a torn tail."""
    events: list[Event] = []
    bad: list[BadLine] = []
    torn: TornTail | None = None
    for number, read in _walk(path):
        if isinstance(read, TornTail):
            torn = read
        elif isinstance(read, str):
            bad.append(BadLine(number, read))
        else:
            events.append(read)
    return Readable(events=events, bad=bad, torn=torn)


def iter_events(path: Path) -> Iterator[Event]:
    """Every event of ``events.jsonl`` in file order, parsed as it is reached."""
    for number, read in _walk(path):
        if isinstance(read, TornTail):  # a write that never completed
            raise EventLogError(f"{path}:{number}: torn last line (a crash interrupted a write)")
        if isinstance(read, str):
            raise EventLogError(f"{path}:{number}: {read}")
        yield read


def _walk(path: Path) -> Iterator[tuple[int, Event | str | TornTail]]:
    """``(line number, what it holds)`` of every line that is not empty, in file order: its
    event, what is wrong with it (``parse_line``; the seq rule follows the last good event),
    or, for a last line that never completed, the torn tail. Each reader decides what a bad
    line or a torn tail means to it."""
    previous_seq = 0
    for number, line, complete in numbered_lines(path):
        if not complete:
            yield number, TornTail(line=number, data=line)
            return
        parsed = parse_line(line, previous_seq)
        if not isinstance(parsed, str):
            previous_seq = parsed.seq
        yield number, parsed


def numbered_lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """``(line number, line, complete)`` of every line that is not empty, read one at a time;
    only the last can be incomplete (no newline: a write that never completed)."""
    with _open(path) as log:
        for number, line in enumerate(log, start=1):
            if line == b"\n":
                continue
            if line.endswith(b"\n"):
                yield number, line[:-1], True
            else:
                yield number, line, False


def parse_line(line: bytes, previous_seq: int) -> Event | str:
    """The event on a complete line, or what is wrong with it (not an event, or a seq that
    does not follow ``previous_seq``): the one rule of every reader of the record."""
    try:
        event = parse_event(line)
    except ValidationError as exc:
        return f"not a valid event: {_first(exc)}"
    if event.seq <= previous_seq:
        return f"seq {event.seq} does not follow {previous_seq}"
    return event


def amendments_in(path: Path) -> list[Amendment]:
    """The record's amendments in file order; lines that are not valid events are left to
    ``iter_events`` to report."""
    found: list[Amendment] = []
    with _open(path) as log:
        for line in log:
            if b'"amendment"' not in line:
                continue
            try:
                event = parse_event(line)
            except ValidationError:
                continue
            if isinstance(event, Amendment):
                found.append(event)
    return found


def _open(path: Path) -> BufferedReader:
    try:
        return open(path, "rb")
    except FileNotFoundError as exc:
        raise EventLogError(f"{path}: no event log here") from exc
    except OSError as exc:
        raise EventLogError(f"{path}: cannot read the record: {exc.strerror}") from exc


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    loc = ".".join(str(part) for part in error["loc"])
    return f"{loc}: {error['msg']}" if loc else str(error["msg"])
