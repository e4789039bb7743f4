"""The command line: the one place in kunren that prints and exits.

Library code raises ``KunrenError`` subclasses; ``main`` turns them into ``Error: …`` lines (or,
for located input problems, one ``FILE:LINE: KEY.PATH: message`` line each) and the exit code
from the error. ``--debug`` shows the traceback instead. Commands live in the modules beside
this one, one module per area; heavy libraries are imported inside commands only, so
``kunren --help`` stays fast. The group imports a command's module only when that command is
asked for (``kunren validate`` imports ``scenario_cmds`` alone): ``COMMAND_MODULES`` names
each command's module, and ``tests/test_cli_startup.py`` keeps it equal to the modules'
``COMMANDS``.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import click

from kunren import __version__
from kunren.errors import KunrenError, ProblemsError


@dataclass(frozen=True)
class Options:
    """The group's own options, carried as click's context object to the error boundary."""

    debug: bool = False


# Every command, by name, and the module (beside this one) that defines it in its COMMANDS.
COMMAND_MODULES: Mapping[str, str] = {
    "validate": "scenario_cmds",
    "plan": "scenario_cmds",
    "schema": "scenario_cmds",
    "init": "scenario_cmds",
    "plugins": "scenario_cmds",
    "run": "drill_cmds",
    "abort": "drill_cmds",
    "revert": "drill_cmds",
    "resume": "drill_cmds",
    "mark": "record_cmds",
    "note": "record_cmds",
    "amend": "record_cmds",
    "log": "record_cmds",
    "score": "score_cmds",
    "report": "score_cmds",
    "trend": "score_cmds",
    "import": "score_cmds",
    "notify": "notify_cmds",
    "export": "aws_cmds",
}


class LazyGroup(click.Group):
    """A group that imports a command's module the first time that command is looked up.

    ``kunren validate`` then pays for ``scenario_cmds`` alone, not for the imports of every
    other command's module. ``--help`` lists every command, so it imports them all, as before.
    Reading ``commands`` (the whole table, as tests and docs checks do) loads every module.
    """

    _loaded: dict[str, click.Command]

    def __init__(self, *args: Any, modules: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._modules = modules

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self._modules) | set(self._loaded))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        loaded = self._loaded
        if cmd_name not in loaded and cmd_name in self._modules:
            self._load(self._modules[cmd_name])
        return loaded.get(cmd_name)

    @property
    def commands(self) -> MutableMapping[str, click.Command]:
        for module in dict.fromkeys(self._modules.values()):
            self._load(module)
        return self._loaded

    @commands.setter
    def commands(self, value: MutableMapping[str, click.Command]) -> None:
        self._loaded = dict(value)

    def _load(self, module: str) -> None:
        for command in importlib.import_module(f"kunren.cli.{module}").COMMANDS:
            if command.name is not None:
                self._loaded.setdefault(command.name, command)


@click.group(
    cls=LazyGroup,
    modules=COMMAND_MODULES,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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


def report_error(exc: KunrenError) -> None:
    if isinstance(exc, ProblemsError):
        for line in exc.lines:
            click.echo(line, err=True)
    else:
        click.echo(f"Error: {exc.message}", err=True)


def _skip_the_final_collection() -> None:
    """At exit, let the interpreter skip its last garbage collection over every object.

    A command's last ~25 ms went to that sweep: the interpreter walks every object the
    imports made (pydantic's schemas, mostly) right before the process ends and the system
    takes the memory back anyway. ``gc.freeze`` at exit (registered first, so it runs after
    every other exit handler) moves them out of the collector's sight; objects are still
    freed as their last reference goes, so open files are still closed and flushed.
    """
    global _frozen_at_exit
    if not _frozen_at_exit:
        atexit.register(gc.freeze)
        _frozen_at_exit = True


_frozen_at_exit = False


def main(argv: list[str] | None = None) -> None:
    _skip_the_final_collection()
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
            import traceback  # only here: `kunren validate` would otherwise import it for nothing

            traceback.print_exc()
        report_error(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    sys.exit(0)
