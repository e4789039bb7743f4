"""Recording into a drill from a terminal, beside its conductor: mark, note, amend, log.

Each command names the drill by id or folder, stamps its entry by the one rule in
``kunren.record.attach.entry_clock`` (now on the drill's clock, or ``--at``), and prints the
event line as it is on disk. Once the drill has ended, an entry is refused unless ``--late``
says it is a retro entry; it is then recorded with ``late: true``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from kunren.cli import collector
from kunren.cli.options import drills_option
from kunren.errors import UsageError

if TYPE_CHECKING:
    from kunren.record.events import Amendment, Milestone, Note

    Entry = Milestone | Note | Amendment

LATE_HELP = "The drill has ended: record this anyway, marked late (see README, Late entries)."
FOLLOW_POLL = 0.2  # real seconds between looks at the record with --follow


def _parse_at(text: str | None, option: str = "--at") -> float | None:
    from kunren.durations import parse_offset

    if text is None:
        return None
    try:
        return parse_offset(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def _record(
    drill: str,
    drills_root: Path,
    event: Entry,
    at: float | None,
    late: bool,
    *,
    need_time: bool,
    what: str,
) -> None:
    """Append one entry to a drill's log from outside the conductor and print its line."""
    from kunren.drills.console import line
    from kunren.record.attach import entry_clock, open_drill
    from kunren.record.recorder import Recorder

    log = open_drill(drill, drills_root)
    entry = entry_clock(log.read(), at, late=late, need_time=need_time, what=what)
    written = Recorder(log, entry.clock).record(event.model_copy(update={"late": entry.late}))
    click.echo(line(written))  # a late entry's line says so


@click.command()
@click.argument("milestone")
@click.option("--drill", required=True, help="Drill folder or drill id.")
@drills_option()
@click.option("--actor", required=True, help="Who reached it.")
@click.option("--role", required=True, help="Their role in the drill.")
@click.option("--note", default="", help="Optional note.")
@click.option("--at", help="Drill time (12:30, 1:02:03 or 5m) instead of now.")
@click.option(
    "--facilitator",
    is_flag=True,
    help="Recorded by the facilitator for someone: any milestone, whatever their role.",
)
@click.option("--late", is_flag=True, help=LATE_HELP)
def mark(
    milestone: str,
    drill: str,
    drills_root: Path,
    actor: str,
    role: str,
    note: str,
    at: str | None,
    facilitator: bool,
    late: bool,
) -> None:
    """Record that ACTOR reached MILESTONE (detected, triaged, customer_notified, …).

    A participant may mark only their role's milestones (roles.<role>.milestones, or
    milestones[].roles); --facilitator records any milestone for anyone.
    """
    with collector.paused():  # the event and scenario models: no collection while built
        from kunren.record.attach import find_drill
        from kunren.record.events import Milestone
        from kunren.record.folders import load_snapshot

    scenario = load_snapshot(find_drill(drill, drills_root)).scenario
    if milestone not in scenario.milestone_names:
        raise UsageError(
            f"unknown milestone {milestone!r}; "
            f"this drill knows: {', '.join(scenario.milestone_names)}"
        )
    if scenario.roles and role not in scenario.roles:
        raise UsageError(f"unknown role {role!r}; this drill has: {', '.join(scenario.roles)}")
    allowed = scenario.milestones_for_role(role)
    if not facilitator and milestone not in allowed:
        # the page shows a role only its own buttons; a terminal is held to the same list, so
        # a support mark can never become the drill's first "triaged"
        raise UsageError(
            f"role {role} cannot mark {milestone} "
            f"(its milestones: {', '.join(allowed) or 'none'}); "
            "a facilitator may record it for them with --facilitator"
        )
    source = "facilitator" if facilitator else "participant"
    event = Milestone(name=milestone, actor=actor, role=role, note=note, source=source)
    _record(drill, drills_root, event, _parse_at(at), late, need_time=True, what="this mark")


@click.command()
@click.argument("text")
@click.option("--drill", required=True, help="Drill folder or drill id.")
@drills_option()
@click.option("--actor", default="", help="Who wrote it.")
@click.option("--at", help="Drill time instead of now.")
@click.option("--late", is_flag=True, help=LATE_HELP)
def note(text: str, drill: str, drills_root: Path, actor: str, at: str | None, late: bool) -> None:
    """Add a free note to a drill (start it with `action:` to make it an action item)."""
    from kunren.record.events import Note

    event = Note(text=text, actor=actor)
    _record(drill, drills_root, event, _parse_at(at), late, need_time=False, what="this note")


@click.command()
@click.argument("seq", type=int)
@click.argument("new_time")
@click.option("--drill", required=True, help="Drill folder or drill id.")
@drills_option()
@click.option("--reason", required=True, help="Why the recorded time is wrong.")
@click.option("--actor", default="facilitator", show_default=True)
@click.option("--late", is_flag=True, help=LATE_HELP)
def amend(
    seq: int, new_time: str, drill: str, drills_root: Path, reason: str, actor: str, late: bool
) -> None:
    """Correct the drill time of event SEQ to NEW_TIME; the original stays in the record."""
    from kunren.durations import format_clock
    from kunren.record.attach import end_time, open_drill
    from kunren.record.events import Amendment

    log = open_drill(drill, drills_root)
    events = log.read()
    if not any(e.seq == seq for e in events):
        raise UsageError(f"no event #{seq} in {log.path}")
    new_at = _parse_at(new_time, "NEW_TIME")
    assert new_at is not None
    limit = end_time(events)
    if new_at > limit:
        raise UsageError(
            f"NEW_TIME {format_clock(new_at)} is after the drill's end at {format_clock(limit)}"
        )
    event = Amendment(target_seq=seq, new_at=new_at, actor=actor, reason=reason)
    _record(drill, drills_root, event, None, late, need_time=False, what="this amendment")


@click.command(name="log")
@click.argument("drill")
@drills_option()
@click.option(
    "-f",
    "--follow",
    is_flag=True,
    help="Keep printing events as they are recorded, until the drill ends (Ctrl-C stops).",
)
def show_log(drill: str, drills_root: Path, follow: bool) -> None:
    """Print a drill's record, one event a line (DRILL: drill id or folder)."""
    from kunren.drills.console import line
    from kunren.record.attach import open_drill

    log = open_drill(drill, drills_root)
    if follow:
        _follow(log.drill_dir)
        return
    record = log.read_record()
    for event in record.events:
        click.echo(line(event))
    if record.torn is not None:
        click.echo(f"(line {record.torn.line} is torn: a crash interrupted a write)", err=True)


def _follow(drill_dir: Path) -> None:
    """Print every event as it lands, until the record shows the end or no conductor runs."""
    from kunren.drills.console import line
    from kunren.drills.recovery import conductor_alive
    from kunren.record.events import DrillAborted, DrillEnded
    from kunren.record.mirror import LogMirror
    from kunren.runtime.clock import blocking_sleep

    mirror = LogMirror(drill_dir / "events.jsonl")
    shown = 0
    while True:
        alive = conductor_alive(drill_dir) is not None  # looked at before reading: no race
        for event in mirror.since(shown):
            click.echo(line(event))
            shown = event.seq
            if isinstance(event, DrillEnded | DrillAborted):
                return
        if not alive:
            click.echo("(no conductor is running this drill: nothing more will come)", err=True)
            return
        blocking_sleep(FOLLOW_POLL)


COMMANDS: list[click.Command] = [mark, note, amend, show_log]
