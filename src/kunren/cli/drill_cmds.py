"""Running drills and recording into them: run, abort, revert, resume, mark, note, amend, log."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from kunren.cli.options import drills_option
from kunren.errors import KunrenError, UsageError

if TYPE_CHECKING:
    from collections.abc import Coroutine

T = TypeVar("T")


def _run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, imported only by the commands that run a drill (~30 ms with ssl)."""
    import asyncio

    return asyncio.run(coroutine)


def _drill_dir(drill: str, drills_root: Path) -> Path:
    from kunren.record.attach import open_drill

    return open_drill(drill, drills_root).drill_dir


def _console(quiet: bool) -> Any:
    from kunren.drills.console import line

    def observer(event: Any, conductor: Any) -> None:
        if quiet:
            return
        text = line(event)
        step = conductor.next_step
        if step is not None and event.type not in ("load.stats",):
            from kunren.durations import format_clock

            text += f"    (next: {format_clock(step.at)} {step.label})"
        click.echo(text)

    return observer


def _web_options(
    web: bool, bind: str, port: int, allow_remote: bool, live_notices: bool = False
) -> Any:
    if not web:
        return None
    from kunren.drills.serving import WebOptions

    return WebOptions(
        host=bind,
        port=port,
        allow_remote=allow_remote,
        announce=_announce,
        live_notices=live_notices,
    )


def _announce(line: str) -> None:
    """Print the page's links; in a terminal, the join link also as a QR code for phones."""
    click.echo(line)
    if not line.startswith("Participants join at:") or not sys.stdout.isatty():
        return
    try:
        import segno
    except ImportError:
        return
    url = line.split(":", 1)[1].strip()
    segno.make(url, error="l").terminal(compact=True)


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--speed",
    type=float,
    default=1.0,
    show_default=True,
    help="Run drill time this many times faster than real time (rehearsals, demo).",
)
@click.option(
    "--clock",
    "clock_kind",
    type=click.Choice(["real", "virtual"]),
    default="real",
    show_default=True,
    help="virtual: no waiting at all (tests, simulations).",
)
@drills_option()
@click.option(
    "--dry-run", is_flag=True, help="Print the plan with resolved targets; touch nothing."
)
@click.option("--yes", is_flag=True, help="Do not ask before touching real systems.")
@click.option("--profile", help="AWS profile for AWS faults and probes.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for random selections.")
@click.option(
    "--web/--no-web",
    default=True,
    show_default=True,
    help="Serve the participant page while the drill runs.",
)
@click.option("--bind", default="127.0.0.1", show_default=True, help="Participant page address.")
@click.option(
    "--port", type=int, default=8765, show_default=True, help="Participant page port (0: any)."
)
@click.option("--allow-remote", is_flag=True, help="Allow binding the page beyond loopback.")
@click.option(
    "--live-notifications",
    is_flag=True,
    help="Notices sent from the page reach real audiences (asks first); else captured.",
)
@click.option(
    "--report/--no-report",
    default=True,
    show_default=True,
    help="Write the retro report when the drill ends.",
)
@click.option("-q", "--quiet", is_flag=True, help="No live console; print only the drill folder.")
def run(
    scenario: Path,
    speed: float,
    clock_kind: str,
    drills_root: Path,
    dry_run: bool,
    yes: bool,
    profile: str | None,
    seed: int,
    web: bool,
    bind: str,
    port: int,
    allow_remote: bool,
    live_notifications: bool,
    report: bool,
    quiet: bool,
) -> None:
    """Run the drill in SCENARIO: inject, watch, record; revert everything at the end."""
    from kunren.drills import runner
    from kunren.scenarios.loader import load_scenario

    if speed <= 0:
        raise UsageError("--speed must be positive")
    loaded = load_scenario(scenario)
    settings = runner.RunSettings(
        drills_root=drills_root,
        clock_kind=clock_kind,
        speed=speed,
        profile=profile,
        seed=seed,
        web=_web_options(
            web and clock_kind != "virtual", bind, port, allow_remote, live_notifications
        ),
    )
    if dry_run:
        rows = _run_async(runner.dry_run(loaded, settings))
        click.echo(f"Dry run of {scenario}: nothing is touched.")
        for fault_id, kind, targets, undo in rows:
            undo_text = f"; undo: {undo}" if undo else ""
            click.echo(f"  {fault_id} ({kind}): {', '.join(targets)}{undo_text}")
        return
    touched = runner.real_systems(loaded)
    if live_notifications:
        touched.append("notices from the page go to real audiences (--live-notifications)")
    if touched and not yes:
        if not sys.stdin.isatty():
            raise UsageError(
                "this drill touches real systems (" + "; ".join(touched) + "): pass --yes"
            )
        click.echo("This drill touches real systems:\n  " + "\n  ".join(touched))
        click.confirm("Run it?", abort=True)
    log, outcome = _run_async(runner.start_drill(loaded, settings, _console(quiet)))
    click.echo(f"Drill {outcome.status}: {outcome.reason}")
    click.echo(f"Record: {log.drill_dir}")
    if report:
        _write_report(log.drill_dir, drills_root)
    if outcome.status == "aborted":
        raise KunrenError(f"the drill was aborted ({outcome.reason}); everything was reverted")


def _write_report(drill_dir: Path, drills_root: Path) -> None:
    try:
        from kunren.reports import write_report
    except ImportError:
        return
    path = write_report([drill_dir], fmt="html", drills_root=drills_root)
    click.echo(f"Report: {path}")


@click.command()
@click.argument("drill")
@drills_option()
@click.option("--reason", default="aborted by the facilitator", show_default=True)
@click.option(
    "--wait",
    "wait_seconds",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds to wait for the conductor to finish reverting.",
)
def abort(drill: str, drills_root: Path, reason: str, wait_seconds: float) -> None:
    """Abort a running DRILL: its conductor reverts every fault and stops load and services.

    If no conductor is running (it crashed), this reverts what the record shows injected.
    """
    from kunren.drills.recovery import conductor_alive, revert_drill
    from kunren.runtime.clock import blocking_sleep, monotonic

    drill_dir = _drill_dir(drill, drills_root)
    pid = conductor_alive(drill_dir)
    if pid is None:
        click.echo("No conductor is running this drill; reverting from the record.")
        _print_revert(_run_async(revert_drill(drill_dir)))
        return
    os.kill(pid, signal.SIGTERM)
    deadline = monotonic() + wait_seconds
    while monotonic() < deadline and conductor_alive(drill_dir) == pid:
        blocking_sleep(0.1)
    if conductor_alive(drill_dir) == pid:
        raise KunrenError(f"the conductor (pid {pid}) has not finished after {wait_seconds:g}s")
    click.echo(f"Drill {drill_dir.name} aborted ({reason}).")


def _print_revert(report: Any) -> None:
    from kunren.errors import RevertError

    if report.torn_line is not None:
        click.echo(f"Torn line {report.torn_line} set aside in events.torn.")
    for key in report.reverted:
        click.echo(f"reverted {key}")
    for name in report.services_stopped:
        click.echo(f"stopped service {name}")
    if not report.reverted and not report.failed:
        click.echo("Nothing left to revert.")
    if report.failed:
        raise RevertError("revert failed for " + ", ".join(report.failed) + ": check them by hand")


@click.command()
@click.argument("drill")
@drills_option()
def revert(drill: str, drills_root: Path) -> None:
    """Undo every fault the record of DRILL shows injected and not reverted (after a crash)."""
    from kunren.drills.recovery import revert_drill

    _print_revert(_run_async(revert_drill(_drill_dir(drill, drills_root))))


@click.command()
@click.argument("drill")
@drills_option()
@click.option("--profile", help="AWS profile for AWS faults and probes.")
@click.option("--web/--no-web", default=True, show_default=True)
@click.option("--bind", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--allow-remote", is_flag=True)
@click.option("-q", "--quiet", is_flag=True)
def resume(
    drill: str,
    drills_root: Path,
    profile: str | None,
    web: bool,
    bind: str,
    port: int,
    allow_remote: bool,
    quiet: bool,
) -> None:
    """Continue a DRILL whose conductor stopped, at the drill time it has reached."""
    from kunren.drills import runner

    settings = runner.RunSettings(
        drills_root=drills_root, profile=profile, web=_web_options(web, bind, port, allow_remote)
    )
    log, outcome = _run_async(
        runner.resume(_drill_dir(drill, drills_root), settings, _console(quiet))
    )
    click.echo(f"Drill {outcome.status}: {outcome.reason}")
    click.echo(f"Record: {log.drill_dir}")
    if outcome.status == "aborted":
        raise KunrenError(f"the drill was aborted ({outcome.reason}); everything was reverted")


def _record_now(
    drill: str, drills_root: Path, event: Any, at: str | None, need_time: bool = True
) -> Any:
    """Append one event to a drill's log from outside the conductor, at now or ``--at``."""
    from kunren.durations import parse_offset
    from kunren.record.attach import attached_clock, open_drill
    from kunren.record.recorder import Recorder
    from kunren.runtime.clock import VirtualClock

    log = open_drill(drill, drills_root)
    events = log.read()
    clock = attached_clock(events)
    offset: float | None = None
    if at is not None:
        try:
            offset = parse_offset(at)
        except ValueError as exc:
            raise UsageError(f"--at: {exc}") from None
    elif clock is None and need_time:
        raise UsageError("this drill runs on the virtual clock: give the drill time with --at")
    elif clock is None:
        offset = events[-1].at if events else 0.0
    recorder = Recorder(log, clock or VirtualClock(start=offset or 0.0))
    return recorder.record(event, at=offset)


@click.command()
@click.argument("milestone")
@click.option("--drill", required=True, help="Drill folder or drill id.")
@drills_option()
@click.option("--actor", required=True, help="Who reached it.")
@click.option("--role", required=True, help="Their role in the drill.")
@click.option("--note", default="", help="Optional note.")
@click.option("--at", help="Drill time (12:30, 1:02:03 or 5m) instead of now.")
@click.option("--facilitator", is_flag=True, help="Recorded by the facilitator for someone.")
def mark(
    milestone: str,
    drill: str,
    drills_root: Path,
    actor: str,
    role: str,
    note: str,
    at: str | None,
    facilitator: bool,
) -> None:
    """Record that ACTOR reached MILESTONE (detected, triaged, customer_notified, …)."""
    from kunren.drills.console import line
    from kunren.record.events import Milestone
    from kunren.record.folders import load_snapshot

    scenario = load_snapshot(_drill_dir(drill, drills_root)).scenario
    if milestone not in scenario.milestone_names:
        raise UsageError(
            f"unknown milestone {milestone!r}; "
            f"this drill knows: {', '.join(scenario.milestone_names)}"
        )
    if scenario.roles and role not in scenario.roles:
        raise UsageError(f"unknown role {role!r}; this drill has: {', '.join(scenario.roles)}")
    source = "facilitator" if facilitator else "participant"
    event = Milestone(name=milestone, actor=actor, role=role, note=note, source=source)
    click.echo(line(_record_now(drill, drills_root, event, at)))


@click.command()
@click.argument("text")
@click.option("--drill", required=True, help="Drill folder or drill id.")
@drills_option()
@click.option("--actor", default="", help="Who wrote it.")
@click.option("--at", help="Drill time instead of now.")
def note(text: str, drill: str, drills_root: Path, actor: str, at: str | None) -> None:
    """Add a free note to a drill (start it with `action:` to make it an action item)."""
    from kunren.drills.console import line
    from kunren.record.events import Note

    event = Note(text=text, actor=actor)
    click.echo(line(_record_now(drill, drills_root, event, at, need_time=False)))


@click.command()
@click.argument("seq", type=int)
@click.argument("new_time")
@click.option("--drill", required=True, help="Drill folder or drill id.")
@drills_option()
@click.option("--reason", required=True, help="Why the recorded time is wrong.")
@click.option("--actor", default="facilitator", show_default=True)
def amend(seq: int, new_time: str, drill: str, drills_root: Path, reason: str, actor: str) -> None:
    """Correct the drill time of event SEQ to NEW_TIME; the original stays in the record."""
    from kunren.drills.console import line
    from kunren.durations import parse_offset
    from kunren.record.attach import open_drill
    from kunren.record.events import Amendment

    log = open_drill(drill, drills_root)
    if not any(e.seq == seq for e in log.read()):
        raise UsageError(f"no event #{seq} in {log.path}")
    try:
        new_at = parse_offset(new_time)
    except ValueError as exc:
        raise UsageError(f"NEW_TIME: {exc}") from None
    event = Amendment(target_seq=seq, new_at=new_at, actor=actor, reason=reason)
    click.echo(line(_record_now(drill, drills_root, event, None, need_time=False)))


@click.command(name="log")
@click.argument("drill")
@drills_option()
def show_log(drill: str, drills_root: Path) -> None:
    """Print a drill's record, one event a line."""
    from kunren.drills.console import line
    from kunren.record.attach import open_drill

    record = open_drill(drill, drills_root).read_record()
    for event in record.events:
        click.echo(line(event))
    if record.torn is not None:
        click.echo(f"(line {record.torn.line} is torn: a crash interrupted a write)", err=True)


COMMANDS: list[click.Command] = [run, abort, revert, resume, mark, note, amend, show_log]
