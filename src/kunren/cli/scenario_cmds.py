"""Commands on scenarios and the workspace: validate, plan, schema, init, plugins.

None of these touch a system: they read files, check them and print. The scenario modules are
imported inside each command so that ``kunren --help`` loads none of them (and, through the
plugins a scenario names, nothing heavy such as boto3).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kunren.cli import collector
from kunren.errors import Problem, ScenarioError, UsageError

if TYPE_CHECKING:
    from kunren.scenarios.loader import LoadedScenario

AWS_EXTRA_HINT = "--resolve needs kunren[aws]"


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Check scenario files (or every *.yaml in folders) without running anything.

    Prints "ok: FILE" for each valid file; every problem of every file is printed on stderr,
    one a line as FILE:LINE: KEY.PATH: message, and the exit code is 2.
    """
    with collector.paused():  # the scenario models: no collection while they are built
        from kunren.scenarios.loader import find_scenarios, load_scenario

    problems: list[Problem] = []
    files: list[Path] = []
    for path in paths:
        if not path.exists() and not path.is_symlink():  # a link loop: say so, below
            problems.append(Problem(str(path), None, "", "no such file or folder"))
            continue
        found = find_scenarios([path])
        if not found:
            problems.append(Problem(str(path), None, "", "no scenario files (*.yaml, *.yml) here"))
        files += found
    for file in dict.fromkeys(files):  # a file named twice (or inside a folder given) once
        try:
            load_scenario(file)
        except ScenarioError as exc:
            problems += exc.problems
        else:
            click.echo(f"ok: {file}")
    if problems:
        raise ScenarioError(problems)


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--resolve",
    is_flag=True,
    help="Ask AWS (read-only calls) which resources each AWS fault would hit now.",
)
@click.option("--profile", default=None, help="AWS profile for --resolve.")
def plan(scenario: Path, resolve: bool, profile: str | None) -> None:
    """Show the drill's timeline in time order; nothing is touched.

    Every service, probe, load stage, fault (and when it is reverted), inject, objective
    deadline and the drill end, with the targets, runbooks and notifications below.
    """
    from kunren.drills.plan import build_plan, render_plan
    from kunren.scenarios.loader import load_scenario

    loaded = load_scenario(scenario)
    resolved = _resolve(loaded, profile) if resolve else []
    click.echo(render_plan(build_plan(loaded.scenario, resolved)))


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the schema to this file instead of printing it.",
)
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the scenario format, for editors.

    It includes the parameters of every installed plugin kind, so an editor checks
    `match:` under an `http.fault` the way `kunren validate` does.
    """
    from kunren.scenarios.schema import scenario_schema

    text = json.dumps(scenario_schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from exc
    click.echo(f"wrote {output}")


@click.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Write into a folder that is not empty.")
def init(directory: Path, force: bool) -> None:
    """Create a game-day workspace in DIRECTORY with working example scenarios.

    scenarios/ gets the examples with their notice templates and a drill-only audience;
    drills/, scorers/ and reports/ get a README line each.
    """
    from kunren.scenarios.workspace import init_workspace

    written = init_workspace(directory, force=force)
    scenarios = sorted(p for p in written if p.suffix == ".yaml")
    click.echo(f"Created a kunren workspace in {directory} ({len(written)} files):")
    for path in scenarios:
        click.echo(f"  {path}")
    others: dict[Path, list[Path]] = {}
    for path in written:
        if path not in scenarios:
            others.setdefault(path.parent, []).append(path)
    for folder, files in sorted(others.items()):  # every file counted is shown or counted
        click.echo(f"  {files[0]}" if len(files) == 1 else f"  {folder}/ ({len(files)} files)")
    click.echo("Next:")
    click.echo(f"  kunren validate {directory / 'scenarios'}")
    demo = directory / "scenarios" / "demo-shop.yaml"
    if demo in scenarios:
        click.echo(f"  kunren plan {demo}")
        click.echo(f"  kunren run {demo} --speed 30 --yes")


@click.command(name="plugins")
@click.option("--all", "show_all", is_flag=True, help="Also list the test doubles (testing.*).")
def plugins_command(show_all: bool) -> None:
    """List the fault kinds, probes, channels and scorers that are registered."""
    from kunren import plugins
    from kunren.drills.plan import columns

    nouns = {
        plugins.INJECTORS: "injector",
        plugins.PROBES: "probe",
        plugins.CHANNELS: "channel",
        plugins.SCORERS: "scorer",
    }
    rows = [("GROUP", "KIND", "EXTRA", "INSTALLED", "STATUS", "SUMMARY")]
    for group in plugins.GROUPS:
        for info in plugins.describe(group):
            if info.test_double and not show_all:
                continue
            rows.append(
                (
                    nouns[group],
                    info.name,
                    info.extra or "-",
                    "yes" if info.installed else "no",
                    "load-error" if info.error else "available" if info.available else "not-yet",
                    info.summary,
                )
            )
    for line in columns(rows):
        click.echo(line)


COMMANDS: list[click.Command] = [validate, plan, schema, init, plugins_command]


def _resolve(loaded: LoadedScenario, profile: str | None) -> list[str]:
    """One line per AWS fault: the resources it would hit now (read-only AWS calls)."""
    from kunren.injectors.aws import is_aws_kind, resolve_targets
    from kunren.runtime.context import drill_context

    if not any(is_aws_kind(fault.kind) for fault in loaded.scenario.faults):
        return []
    if importlib.util.find_spec("boto3") is None:
        return [AWS_EXTRA_HINT]

    ctx = drill_context(loaded, profile=profile, dry_run=True)
    import asyncio  # only here: it costs ~30 ms (ssl with it) that `kunren validate` never needs

    return [resolved.summary() for resolved in asyncio.run(resolve_targets(ctx))]
