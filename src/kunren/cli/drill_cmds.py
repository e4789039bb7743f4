"""Running drills: run, abort, revert, resume (recording into them is in record_cmds)."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from kunren.cli import collector
from kunren.cli.options import drills_option
from kunren.errors import KunrenError, RevertError, UsageError

if TYPE_CHECKING:
    from collections.abc import Coroutine, Iterator

    from kunren.cli.live import LiveConsole
    from kunren.cli.progress import Progress
    from kunren.drills.conductor import Outcome
    from kunren.drills.runner import DryRunRow
    from kunren.drills.serving import WebOptions
    from kunren.page.options import WebLinks

T = TypeVar("T")


def _run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` whose end is bounded (``kunren.drills.loop``), imported only by the
    commands that run a drill (~30 ms with ssl)."""
    from kunren.drills.loop import run

    return run(coroutine)


def _drill_dir(drill: str, drills_root: Path) -> Path:
    from kunren.record.attach import find_drill

    return find_drill(drill, drills_root)


def _web_options(
    console: LiveConsole,
    web: bool,
    bind: str,
    port: int,
    allow_remote: bool,
    live_notices: bool = False,
) -> WebOptions | None:
    if not web:
        return None
    from kunren.drills.serving import WebOptions
    from kunren.page.server import refuse_remote

    refuse_remote(bind, allow_remote)  # before anything is made: a refused run writes nothing

    def show_links(links: WebLinks) -> None:
        """The page's links; in a terminal, the join link also as a QR code for phones."""
        from kunren.drills.serving import announcement

        for text in announcement(links):
            console.echo(text)
        if console.tty:
            _print_qr(console, links.join)

    return WebOptions(
        host=bind,
        port=port,
        allow_remote=allow_remote,
        announce=console.echo,  # other lines to show (the monitoring intake's address)
        on_links=show_links,
        live_notices=live_notices,
    )


def _print_qr(console: LiveConsole, url: str) -> None:
    try:
        import segno
    except ImportError:
        return
    out = io.StringIO()
    segno.make(url, error="l").terminal(out, compact=True)
    console.echo(out.getvalue().rstrip("\n"))


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
@click.option(
    "--simulate/--no-simulate",
    default=True,
    show_default=True,
    help="--no-simulate: leave out the scenario's simulated people; only real people mark.",
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
    simulate: bool,
    quiet: bool,
) -> None:
    """Run the drill in SCENARIO: inject, watch, record; revert everything at the end."""
    with collector.paused():  # the conductor's layers: no collection while they are built
        from kunren.cli.live import LiveConsole
        from kunren.drills import runner
        from kunren.scenarios.loader import load_scenario

    if speed <= 0:
        raise UsageError("--speed must be positive")
    if not scenario.is_file():
        raise UsageError(f"{scenario}: no such scenario file")
    loaded = load_scenario(scenario)
    console = LiveConsole(quiet=quiet)
    settings = runner.RunSettings(
        drills_root=drills_root,
        clock_kind="virtual" if clock_kind == "virtual" else "real",
        speed=speed,
        profile=profile,
        seed=seed,
        web=_web_options(
            console, web and clock_kind != "virtual", bind, port, allow_remote, live_notifications
        ),
        simulate=simulate,
    )
    if dry_run:
        rows = _run_async(runner.dry_run(loaded, settings))
        _print_dry_run(scenario, rows)
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
    with console, _report_on_revert_failure(console, drills_root, report, loaded.scenario.lang):
        log, outcome = _run_async(runner.start_drill(loaded, settings, console.observer))
    _close(
        outcome,
        log.drill_dir,
        drills_root,
        report,
        loaded.scenario.id,
        quiet,
        console.progress,
        loaded.scenario.lang,
    )


@contextlib.contextmanager
def _report_on_revert_failure(
    console: LiveConsole, drills_root: Path, report: bool, lang: str
) -> Iterator[None]:
    """A revert that failed (or timed out) ends the run with exit 4, and the retro report,
    which names what was not reverted, is still written: it is where people look next. Not on
    a record that could not be written: the report would be written to the same full disk."""
    try:
        yield
    except RevertError:
        drill_dir = console.drill_dir
        if report and drill_dir is not None:
            with contextlib.suppress(Exception):  # the revert failure is what must be said
                written = _write_report(drill_dir, drills_root, lang)
                if written is not None:
                    click.echo(f"Report: {written}")
        raise


def _print_dry_run(scenario: Path, rows: list[DryRunRow]) -> None:
    from kunren.durations import format_clock

    click.echo(f"Dry run of {scenario}: nothing is touched.")
    for row in rows:
        click.echo(f"  {format_clock(row.at)}  {row.fault} ({row.kind}): {row.does}")
        if row.error:
            click.echo(f"         targets: not resolved now ({row.error})")
        else:
            click.echo(f"         targets: {', '.join(row.targets) or '-'}")
        if row.undo:
            click.echo(f"         undo: {row.undo}")
        else:
            click.echo("         undo: none. This fault cannot be undone by kunren")
    lasting = [row.fault for row in rows if not row.undo]
    if lasting:
        click.echo(
            f"Cannot be undone: {', '.join(lasting)} (abort and revert leave them as they are)"
        )


def _close(
    outcome: Outcome,
    drill_dir: Path,
    drills_root: Path,
    report: bool,
    series: str,
    quiet: bool,
    state: Progress,
    lang: str = "en",
) -> None:
    """The last screen, then one Error line if the drill was aborted. ``state``: the live
    console's T0 and objectives, kept per event through the run (the record scored once more
    here would say the same: tests/cli/test_progress.py holds the two equal)."""
    from kunren.cli.live import closing_lines, objectives_line
    from kunren.record.attach import end_time
    from kunren.record.eventlog import EventLog
    from kunren.record.events import FaultInjecting

    events = EventLog(drill_dir).read()
    touched = any(isinstance(e, FaultInjecting) for e in events)
    if outcome.status == "aborted" and not touched:
        # It never got going: no report, no next steps, only why (once) and where.
        click.echo(f"Record: {drill_dir}")
        raise KunrenError(f"the drill was aborted ({outcome.reason}); nothing was injected")
    written = _write_report(drill_dir, drills_root, lang) if report else None
    goals = objectives_line(state, end_time(events))
    lines = closing_lines(outcome, drill_dir, drills_root, written, series, goals)
    for text in lines[: lines.index("Next:")] if quiet else lines:
        click.echo(text)
    if outcome.status == "aborted":
        raise KunrenError(f"the drill was aborted ({outcome.reason}); everything was reverted")


def _write_report(drill_dir: Path, drills_root: Path, lang: str = "en") -> Path | None:
    """The retro report of the drill just run, in the scenario's language (``lang:``)."""
    try:
        with collector.paused():  # the scorecard's models and jinja2, built once
            from kunren.reports import write_report
    except ImportError:
        return None
    return write_report([drill_dir], fmt="html", drills_root=drills_root, lang=lang)


@click.command()
@click.argument("drill")
@drills_option()
@click.option("--reason", default="aborted by the facilitator", show_default=True)
@click.option(
    "--as",
    "actor",
    help="Who aborts (recorded with the reason); default: your login name.",
)
@click.option(
    "--wait",
    "wait_seconds",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds to wait for the conductor to finish reverting.",
)
def abort(
    drill: str, drills_root: Path, reason: str, actor: str | None, wait_seconds: float
) -> None:
    """Abort a running DRILL: its conductor reverts every fault and stops load and services.

    If no conductor is running (it crashed), this reverts what the record shows injected.
    The reason and who aborted (--as) are recorded in drill.aborted.
    """
    from kunren.drills.abort_request import AbortRequest
    from kunren.drills.recovery import abort_from_record
    from kunren.drills.stopping import stop_conductor

    drill_dir = _drill_dir(drill, drills_root)
    request = AbortRequest(reason=reason, actor=actor or _login_name())
    stopped = stop_conductor(drill_dir, request, wait_seconds)
    if stopped is None:
        click.echo("No conductor is running this drill; reverting from the record.")
        _print_revert(_run_async(abort_from_record(drill_dir, request.describe())))
        return
    if stopped == "already finished":
        click.echo(f"The conductor had already finished drill {drill_dir.name}.")
        return
    click.echo(f"Drill {drill_dir.name} aborted ({request.describe()}).")


def _login_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no $USER: a container
        return "unknown"


def _print_revert(report: Any) -> None:
    """What was undone on stdout; what may be left broken or unrecorded as the error (4, 5)."""
    if report.torn_line is not None and report.torn_kept:
        click.echo(f"Torn line {report.torn_line} could not be set aside; it stays in the log.")
    elif report.torn_line is not None:
        click.echo(f"Torn line {report.torn_line} set aside in events.torn.")
    for key in report.reverted:
        click.echo(f"reverted {key}")
    for name in report.services_stopped:
        click.echo(f"stopped service {name}")
    if not report.reverted and not report.failed:
        click.echo("Nothing left to revert.")
    problem = report.problem()
    if problem is not None:
        raise problem


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
@click.option(
    "--speed",
    type=float,
    default=None,
    help="Run the rest of the drill this many times faster than real time [default: as it ran].",
)
@click.option("--web/--no-web", default=True, show_default=True)
@click.option("--bind", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--allow-remote", is_flag=True)
@click.option("-q", "--quiet", is_flag=True)
def resume(
    drill: str,
    drills_root: Path,
    profile: str | None,
    speed: float | None,
    web: bool,
    bind: str,
    port: int,
    allow_remote: bool,
    quiet: bool,
) -> None:
    """Continue a DRILL whose conductor stopped, at the drill time it has reached."""
    from kunren.cli.live import LiveConsole
    from kunren.drills import runner

    console = LiveConsole(quiet=quiet)
    settings = runner.RunSettings(
        drills_root=drills_root,
        profile=profile,
        web=_web_options(console, web, bind, port, allow_remote),
    )
    drill_dir = _drill_dir(drill, drills_root)
    with console:
        log, outcome = _run_async(runner.resume(drill_dir, settings, console.observer, speed))
    from kunren.record.attach import drill_started

    series = drill_started(log.read()).scenario_id
    _close(outcome, log.drill_dir, drills_root, False, series, quiet, console.progress)


COMMANDS: list[click.Command] = [run, abort, revert, resume]
