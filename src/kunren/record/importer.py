"""``kunren import``: a drill run by hand (a tabletop drill, last year's spreadsheet) as a record.

Scores and trends are pure functions of the record, so a drill typed in afterwards is compared
with live ones on equal terms. The CSV has the header ``at,event,name,actor,role,note``; ``at``
is the offset from drill start (``MM:SS`` or ``H:MM:SS``). On a notification row the note
cell is free text (``first notice to all customers``, as a hand-kept sheet has it) with
optional ``audience=``, ``recipients=`` and ``template=`` fields anywhere in it; the free text
becomes the notice's note. Every row is checked first and all
problems are raised together as ``FILE:LINE: COLUMN: message``; nothing is written unless the
whole file is good.
"""

from __future__ import annotations

import csv
import difflib
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from kunren.durations import format_clock, parse_clock_offset
from kunren.errors import InputError, KunrenError, Problem
from kunren.record.events import (
    Alert,
    DrillEnded,
    DrillStarted,
    Event,
    FaultInjected,
    FaultReverted,
    Milestone,
    Note,
    Notification,
    ProbeFailed,
    ProbeRecovered,
)
from kunren.record.folders import create_drill
from kunren.runtime.clock import wall_now
from kunren.scenarios.loader import load_scenario
from kunren.scenarios.models import Scenario

COLUMNS: tuple[str, ...] = ("at", "event", "name", "actor", "role", "note")
REQUIRED_COLUMNS: tuple[str, ...] = ("at", "event")
EVENTS: tuple[str, ...] = (
    "fault.injected",
    "fault.reverted",
    "probe.failed",
    "probe.recovered",
    "alert",
    "milestone",
    "notification",
    "note",
    "drill.ended",
)
_NEEDS_NAME = {
    "fault.injected": "the fault id",
    "fault.reverted": "the fault id",
    "probe.failed": "the probe id",
    "probe.recovered": "the probe id",
    "alert": "the alert name",
    "milestone": "the milestone name",
    "notification": "the channel",
}
_NOTICE_KEYS = ("audience", "recipients", "template")
_PAIR = re.compile(r"^([a-z_]+)=(\S+)$")


@dataclass(frozen=True)
class Row:
    """One checked CSV row."""

    line: int
    at: float
    event: str
    name: str
    actor: str
    role: str | None
    note: str


def import_timeline(
    scenario_path: Path, csv_path: Path, drills_root: Path, start: datetime | None
) -> Path:
    """Record the drill in ``csv_path`` under ``drills_root``; returns the new drill folder.

    ``start`` is the wall time the drill began (default: now); a naive time is local time.
    Raises ``ScenarioError`` or ``InputError`` with every problem, having written nothing.
    """
    loaded = load_scenario(scenario_path, check_plugins=False, check_files=False)
    scenario = loaded.scenario
    rows, end = read_timeline(csv_path, scenario)
    began = start if start is not None else wall_now()
    if began.tzinfo is None:
        began = began.astimezone()  # a naive time is the importer's local time
    log = create_drill(loaded, drills_root, began)  # same folder naming as a live drill
    try:
        log.append_many(build_events(scenario, log.drill_dir.name, rows, end, began))
    except KunrenError:
        shutil.rmtree(log.drill_dir, ignore_errors=True)  # half a drill is worse than none
        raise
    return log.drill_dir


def read_timeline(csv_path: Path, scenario: Scenario) -> tuple[list[Row], float]:
    """The checked rows in drill-time order and the drill's end; InputError lists every problem."""
    name = str(csv_path)
    try:
        text = csv_path.read_text(encoding="utf-8-sig")  # spreadsheets often add a BOM
    except FileNotFoundError:
        raise InputError([Problem(name, None, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(name, None, "", f"cannot read: {exc}")]) from exc
    reader = csv.reader(text.splitlines(keepends=True))
    header = next(reader, None)
    if header is None:
        raise InputError([Problem(name, 1, "", "the file is empty; header: " + ",".join(COLUMNS))])
    columns = [column.strip().lower() for column in header]
    header_problems = _check_header(name, columns)
    if header_problems:
        raise InputError(header_problems)
    problems: list[Problem] = []
    rows: list[Row] = []
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells) or cells[0].lstrip().startswith("#"):
            continue
        if len(cells) > len(columns):
            problems.append(
                Problem(name, line, "", f"{len(cells)} fields, the header has {len(columns)}")
            )
            continue
        values = {column: cell.strip() for column, cell in zip(columns, cells, strict=False)}
        row, row_problems = _check_row(name, line, values, scenario)
        problems += row_problems
        if row is not None:
            rows.append(row)
    rows.sort(key=lambda r: (r.at, r.line))
    end, end_problems = _check_end(name, rows, scenario)
    problems += end_problems
    if not rows and not problems:
        problems.append(Problem(name, 2, "", "no rows: the timeline has only its header"))
    if problems:
        raise InputError(problems)
    return rows, end


def _check_header(name: str, columns: list[str]) -> list[Problem]:
    problems = []
    for column in columns:
        if column not in COLUMNS:
            problems.append(
                Problem(name, 1, column, f"unknown column; the header is {','.join(COLUMNS)}")
            )
    for column in REQUIRED_COLUMNS:
        if column not in columns:
            problems.append(Problem(name, 1, column, "missing column"))
    if len(set(columns)) != len(columns):
        problems.append(Problem(name, 1, "", "a column appears twice"))
    return problems


def _check_row(
    name: str, line: int, values: dict[str, str], scenario: Scenario
) -> tuple[Row | None, list[Problem]]:
    problems: list[Problem] = []

    def problem(column: str, message: str) -> None:
        problems.append(Problem(name, line, column, message))

    at = 0.0
    try:
        at = _offset(values.get("at", ""))
    except ValueError as exc:
        problem("at", str(exc))
    event = values.get("event", "")
    subject = values.get("name", "")
    actor = values.get("actor", "")
    role = values.get("role", "") or None
    note = values.get("note", "")
    if event not in EVENTS:
        problem(
            "event", f"unknown event {event!r}{_close(event, EVENTS)}; one of: {', '.join(EVENTS)}"
        )
        return None, problems
    if event in _NEEDS_NAME and not subject:
        problem("name", f"a {event} row needs {_NEEDS_NAME[event]} in name")
    elif event.startswith("fault.") and scenario.fault(subject) is None:
        faults = [f.id for f in scenario.faults]
        problem(
            "name", f"no fault {subject!r} in the scenario{_close(subject, faults)}{_known(faults)}"
        )
    elif event == "milestone" and subject not in scenario.milestone_names:
        known = scenario.milestone_names
        problem("name", f"unknown milestone {subject!r}{_close(subject, known)}{_known(known)}")
    if event in ("milestone", "notification") and not actor:
        problem("actor", f"a {event} row needs the person in actor")
    roles = list(scenario.roles)
    if role is not None and roles and role not in roles:
        problem(
            "role",
            f"no role {role!r} in the scenario{_close(role, roles)}{_known(roles)}",
        )
    if event == "note" and not note:
        problem("note", "a note row needs its text in note")
    if event == "notification":
        for message in _notice_problems(note):
            problem("note", message)
    if problems:
        return None, problems
    return Row(line, at, event, subject, actor, role, note), []


def _offset(text: str) -> float:
    """``MM:SS`` or ``H:MM:SS``; 9:99 is a typo, not 10:39."""
    seconds = parse_clock_offset(text)
    parts = text.strip().split(":")
    if float(parts[-1]) >= 60 or (len(parts) == 3 and int(parts[1]) >= 60):
        raise ValueError(f"expected an offset like 12:30 or 1:02:03, got {text!r}")
    return seconds


def _notice_problems(note: str) -> list[str]:
    problems = []
    for part in note.split():
        match = _PAIR.match(part)
        if match is None:
            continue  # free text: the note a hand-kept sheet has there
        key, value = match.groups()
        if key not in _NOTICE_KEYS:
            # a misspelt field must not pass silently as text: ``audiance=all`` is a typo
            problems.append(
                f"unknown field {key!r}{_close(key, _NOTICE_KEYS)} in {part!r}; the fields are "
                f"{', '.join(_NOTICE_KEYS)} (key=value), any other text is the note"
            )
        elif key == "recipients" and not value.isdigit():
            problems.append(f"recipients must be a whole number, got {value!r}")
    return problems


@dataclass(frozen=True)
class NoticeCell:
    """A notification row's note cell: its optional ``key=value`` fields and the free text."""

    fields: dict[str, str]
    text: str


def _notice_cell(note: str) -> NoticeCell:
    fields: dict[str, str] = {}
    words: list[str] = []
    for part in note.split():
        match = _PAIR.match(part)
        if match is not None and match.group(1) in _NOTICE_KEYS:
            fields[match.group(1)] = match.group(2)
        else:
            words.append(part)
    return NoticeCell(fields, " ".join(words))


def _check_end(name: str, rows: list[Row], scenario: Scenario) -> tuple[float, list[Problem]]:
    """The drill ends at its drill.ended row, else at the scenario's duration."""
    ends = [r for r in rows if r.event == "drill.ended"]
    problems = [
        Problem(
            name, extra.line, "event", f"a second drill.ended (the first is on line {ends[0].line})"
        )
        for extra in ends[1:]
    ]
    end = ends[0].at if ends else scenario.duration
    for row in rows:
        if row.at > end:
            why = (
                f"after drill.ended at {format_clock(end)} (line {ends[0].line})"
                if ends
                else f"after the scenario's duration {format_clock(end)}; add a drill.ended row "
                "if the drill ran longer"
            )
            problems.append(Problem(name, row.line, "at", f"{format_clock(row.at)} is {why}"))
    return end, problems


def build_events(
    scenario: Scenario, drill_id: str, rows: list[Row], end: float, began: datetime
) -> list[Event]:
    """The record's events, stamped with drill time and the wall time ``began + at``."""

    def wall(at: float) -> str:
        return (began + timedelta(seconds=at)).isoformat()

    events: list[Event] = [
        DrillStarted(
            at=0.0,
            wall=wall(0.0),
            drill=drill_id,
            scenario_id=scenario.id,
            title=scenario.title,
            duration=scenario.duration,
            source="import",
        )
    ]
    notices = 0
    for row in rows:
        if row.event == "notification":
            notices += 1
        event = _event(scenario, row, notices)
        events.append(event.model_copy(update={"at": row.at, "wall": wall(row.at)}))
    if not any(r.event == "drill.ended" for r in rows):
        events.append(DrillEnded(at=end, wall=wall(end), reason="duration reached"))
    return events


def _event(scenario: Scenario, row: Row, notice_number: int) -> Event:
    if row.event == "fault.injected":
        spec = scenario.fault(row.name)
        until = row.at + spec.for_ if spec is not None and spec.for_ is not None else None
        return FaultInjected(fault=row.name, kind=spec.kind if spec else "", until=until)
    if row.event == "fault.reverted":
        return FaultReverted(fault=row.name, detail=row.note)
    if row.event == "probe.failed":
        return ProbeFailed(probe=row.name, detail=row.note)
    if row.event == "probe.recovered":
        return ProbeRecovered(probe=row.name, detail=row.note)
    if row.event == "alert":
        status = "resolved" if row.note.lower() == "resolved" else "firing"
        return Alert(source="import", name=row.name, status=status, actor=row.actor or None)
    if row.event == "milestone":
        return Milestone(
            name=row.name, actor=row.actor, role=row.role, source="import", note=row.note
        )
    if row.event == "notification":
        cell = _notice_cell(row.note)
        fields = cell.fields
        return Notification(
            notice=f"n{notice_number}",
            status="sent",
            channel=row.name,
            audience=fields.get("audience", ""),
            template=fields.get("template", ""),
            recipients=int(fields.get("recipients", "0")),
            sender=row.actor,
            role=row.role,
            note=cell.text,
        )
    if row.event == "note":
        return Note(text=row.note, actor=row.actor)
    return DrillEnded(reason=row.note or "ended")


def _close(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _known(names: Iterable[str]) -> str:
    listed = list(names)
    return f" (known: {', '.join(listed)})" if listed else " (the scenario names none)"
