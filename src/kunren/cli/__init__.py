"""The command line: the one place in kunren that prints and exits.

Library code raises ``KunrenError`` subclasses; ``main`` turns them into ``Error: …`` lines (or,
for located input problems, one ``FILE:LINE: KEY.PATH: message`` line each) and the exit code
from the error. ``--debug`` shows the traceback instead. Commands live in the modules beside
this one, one module per area; heavy libraries are imported inside commands only, so
``kunren --help`` stays fast.
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass

import click

from kunren import __version__
from kunren.errors import KunrenError, ProblemsError


@dataclass(frozen=True)
class Options:
    """The group's own options, carried as click's context object to the error boundary."""

    debug: bool = False


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="kunren")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """kunren (訓練): failure drills that inject faults and time the people, on one clock.

    \b
    Exit codes: 0 ok, 1 error, 2 bad input or usage, 3 objectives missed (--check),
    4 a revert failed (the environment may be left broken), 5 the record could not be
    written (disk full: faults were reverted from memory; stderr says what is missing).
    """
    ctx.obj = Options(debug=debug)


def _register() -> None:
    from kunren.cli import (
        aws_cmds,
        drill_cmds,
        notify_cmds,
        record_cmds,
        scenario_cmds,
        score_cmds,
    )

    modules = (scenario_cmds, drill_cmds, record_cmds, score_cmds, notify_cmds, aws_cmds)
    for module in modules:
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def report_error(exc: KunrenError) -> None:
    if isinstance(exc, ProblemsError):
        for line in exc.lines:
            click.echo(line, err=True)
    else:
        click.echo(f"Error: {exc.message}", err=True)


def main(argv: list[str] | None = None) -> None:
    ctx: click.Context | None = None
    try:
        with cli.make_context("kunren", list(sys.argv[1:] if argv is None else argv)) as ctx:
            cli.invoke(ctx)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KunrenError as exc:
        if ctx is not None and isinstance(ctx.obj, Options) and ctx.obj.debug:
            traceback.print_exc()
        report_error(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    sys.exit(0)
