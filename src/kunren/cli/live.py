"""The live console of ``kunren run`` and ``resume``: what a facilitator watches a game day on.

The conductor hands every event it records to an observer, but marks, notices and notes from
other shells (``kunren mark`` / ``notify`` / ``note``) are written by other processes and only
reach the record file. So the console *tails the record* as well: a small thread reads what
was appended (``LogMirror``) and prints every event no one has shown yet. One lock orders the
output of both.

In a terminal, a status line stays at the bottom: the drill clock, the next step, and each
objective's deadline counting down (or met, or missed). It is drawn with two ANSI controls
(carriage return and erase-line), which every terminal since the VT100 understands, so no
terminal library is needed and ``kunren --help`` stays fast. Piped output and ``--quiet`` stay
plain: one line per event, no controls. The closing screen says how the drill ended and the
commands to run next.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kunren.cli.progress import ObjectiveState, Progress, ProgressTracker, progress
from kunren.drills.console import line
from kunren.durations import format_clock
from kunren.record.events import Event
from kunren.record.mirror import LogMirror

if TYPE_CHECKING:
    from kunren.drills.conductor import Conductor, Outcome

__all__ = [
    "LiveConsole",
    "ObjectiveState",
    "Progress",
    "closing_lines",
    "objective_text",
    "objectives_line",
    "progress",
    "status_line",
]

ERASE = "\r\x1b[2K"
NEXT_HINT = "    (next: "  # what follows a plain console line's own words: the next step
TAIL_EVERY = 0.2  # real seconds between looks at the record (and status redraws)
QUIET_TYPES = ("load.stats",)
ENDINGS = (
    "drill.ended",
    "drill.aborted",
)  # too frequent to carry the "(next: …)" hint in plain output


def objective_text(state: ObjectiveState, now: float, t0: float | None, final: bool = False) -> str:
    """Met (and when), MISSED, or the time left; ``final``: the drill is over, unmet is missed
    (as ``kunren score`` says it)."""
    if state.met_after is not None:
        return f"{state.name} met {format_clock(state.met_after)}"
    if state.missed or final:
        return f"{state.name} MISSED"
    if t0 is None:
        return f"{state.name} ≤{format_clock(state.within)} from T0"
    left = t0 + state.within - now
    if left < 0:
        return f"{state.name} MISSED"
    return f"{state.name} {format_clock(left)} left"


def status_line(
    now: float,
    duration: float,
    next_step: tuple[float, str] | None,
    state: Progress,
) -> str:
    """``drill 03:12 / 20:00 │ next: 05:00 fault shop-hangs │ detected 01:48 left · …``
    (plain characters: an emoji clock is a box in many terminal fonts)."""
    parts = [f"drill {format_clock(now)} / {format_clock(duration)}"]
    if next_step is not None:
        parts.append(f"next: {format_clock(next_step[0])} {next_step[1]}")
    goals = " · ".join(objective_text(o, now, state.t0) for o in state.objectives)
    if goals:
        parts.append(goals)
    return " │ ".join(parts)


class LiveConsole:
    """The observer ``kunren run`` gives the conductor, plus the record tail and status line.

    Use as a context manager around the drill: the tail thread runs inside it.
    """

    def __init__(self, *, quiet: bool = False, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.quiet = quiet
        self.tty = not quiet and self.out.isatty()
        self._lock = threading.Lock()
        self._shown: set[int] = set()
        self._conductor: Conductor | None = None
        self._mirror: LogMirror | None = None
        self._tracker: ProgressTracker | None = None  # T0 and objectives, kept per event
        self._events: list[Event] = []  # the mirror's list, and how much of it was looked at
        self._read = 0
        self._unshown: list[Event] = []  # read for the status line, shown at the next catch-up
        self._status = ""
        self._over = False
        self._gone = False  # the terminal went away: nothing more is written
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tail, name="kunren-live", daemon=True)

    # -------------------------------------------------------------- the conductor's side

    @property
    def drill_dir(self) -> Path | None:
        """The folder of the drill shown, once its conductor recorded a first event."""
        return self._conductor.log.drill_dir if self._conductor is not None else None

    def observer(self, event: Event, conductor: Conductor) -> None:
        """Called by the conductor for each event it recorded (already on disk)."""
        with self._lock:
            if self._conductor is None:
                self._conductor = conductor
                self._mirror = LogMirror(conductor.log.path)
                self._tracker = ProgressTracker(conductor.scenario)
            self._show(event, conductor)

    def echo(self, text: str) -> None:
        """A line that is not an event (the page's links), kept above the status line; shown
        with ``--quiet`` too (people need the links to join)."""
        with self._lock:
            self._write(text)

    # -------------------------------------------------------------- the thread

    def __enter__(self) -> LiveConsole:
        if not self.quiet:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        with self._lock:
            self._catch_up()
            self._clear_status()

    def _tail(self) -> None:
        while not self._stop.wait(TAIL_EVERY):
            with self._lock:
                self._catch_up()
                if self.tty:
                    self._draw_status()

    def _catch_up(self) -> None:
        """Show what other writers appended (the conductor's own events are shown already)."""
        if self._conductor is None:
            return
        self._read_new()
        unshown, self._unshown = self._unshown, []
        for event in unshown:
            if event.seq not in self._shown:
                self._show(event, self._conductor)

    def _read_new(self) -> None:
        """Take what the record gained since the last look, only that: into the progress
        (per event, never the whole record again) and, to be shown, ``_unshown``."""
        if self._mirror is None or self._tracker is None:
            return
        try:
            events = self._mirror.refresh()
        except Exception:  # a torn or vanished file must not stop the drill's console
            return
        if events is not self._events or len(events) < self._read:
            self._events, self._read = events, 0  # the mirror read the file again from its start
        new = events[self._read :]
        self._read = len(events)
        for event in new:
            self._tracker.add(event)
        self._unshown += new

    @property
    def progress(self) -> Progress:
        """T0 and each objective as the record says so far (after the run: at its end), kept
        per event, so the closing lines need not score the record again."""
        return self._tracker.progress if self._tracker is not None else Progress(None, ())

    # -------------------------------------------------------------- drawing

    def _show(self, event: Event, conductor: Conductor) -> None:
        if event.seq in self._shown:
            return
        self._shown.add(event.seq)
        if event.type in ENDINGS:
            self._over = True  # the clock runs on while the conductor finishes: stop showing it
        if self.quiet:
            return
        text = line(event)
        step = conductor.next_step
        if not self.tty and step is not None and event.type not in QUIET_TYPES:
            text += f"{NEXT_HINT}{format_clock(step.at)} {step.label})"
        self._write(text)

    def _write(self, text: str) -> None:
        if self.tty and self._status:
            self._put(ERASE)
            self._status = ""
        self._put(text + "\n")
        if self.tty:
            self._draw_status()

    def _put(self, text: str) -> None:
        """Write to the terminal. Once it has gone (ssh closed: SIGHUP, then EIO or EPIPE), fall
        silent: the drill must still revert and close its record."""
        if self._gone:
            return
        try:
            self.out.write(text)
            self.out.flush()
        except (OSError, ValueError):  # ValueError: the stream was closed
            self._gone = True

    def _draw_status(self) -> None:
        conductor = self._conductor
        if conductor is None or self._over or self._mirror is None:
            return
        with contextlib.suppress(Exception):  # as in _catch_up: it never stops the drill
            self._read_new()
        step = conductor.next_step
        text = status_line(
            conductor.clock.now(),
            conductor.scenario.duration,
            (step.at, step.label) if step is not None else None,
            self.progress,
        )
        width = shutil.get_terminal_size((100, 24)).columns
        self._status = text if len(text) < width else text[: max(width - 2, 10)] + "…"
        self._put(ERASE + self._status)

    def _clear_status(self) -> None:
        if self.tty and self._status:
            self._put(ERASE)
        self._status = ""


def objectives_line(state: Progress, end: float) -> str | None:
    """``Objectives: 1 of 2 met (detected met 02:10 · triaged MISSED)``, at the drill's end."""
    if not state.objectives:
        return None
    met = sum(1 for o in state.objectives if o.met_after is not None)
    each = " · ".join(objective_text(o, end, state.t0, final=True) for o in state.objectives)
    return f"Objectives: {met} of {len(state.objectives)} met ({each})"


def closing_lines(
    outcome: Outcome,
    drill_dir: Path,
    drills_root: Path,
    report: Path | None,
    series: str,
    objectives: str | None = None,
) -> list[str]:
    """The last screen: how the drill ended, where its record is, and what to run next."""
    lines = []
    if outcome.status != "aborted":
        lines.append(f"Drill {outcome.status}: {outcome.reason}")
    if objectives is not None:
        lines.append(objectives)
    lines.append(f"Record: {drill_dir}")
    if report is not None:
        lines.append(f"Report: {report}")
    drill = drill_dir.name if drill_dir.parent == drills_root else str(drill_dir)
    root = "" if drills_root == Path("drills") else f" --drills {drills_root}"
    steps = [
        (f"kunren score {drill}{root}", "the timings against the objectives"),
        (f"kunren trend {series}{root}", "this drill beside the earlier ones of its series"),
        (f"open {report}", "the retro report")
        if report is not None
        else (f"kunren report {drill}{root}", "write the retro report"),
    ]
    width = max(len(command) for command, _ in steps)
    lines.append("Next:")
    lines += [f"  {command.ljust(width)}   {why}" for command, why in steps]
    return lines
