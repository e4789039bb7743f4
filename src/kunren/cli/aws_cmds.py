"""Commands of the AWS area: ``kunren export fis`` (see kunren.cli for the error boundary).

The export reads the scenario and botocore's FIS service model only; it calls no AWS API, so it
works offline and without credentials. Everything AWS is imported inside the command, keeping
``kunren --help`` fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from kunren.errors import KunrenError


@click.group(name="export")
def export_group() -> None:
    """Export a scenario to another tool's format."""


@export_group.command(name="fis")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the template here instead of standard output.",
)
@click.option("--account", help="AWS account id for ARNs (default: the one allowed account).")
@click.option(
    "--role-arn", help="IAM role FIS assumes (default: arn:aws:iam::ACCOUNT:role/kunren-fis)."
)
@click.option("--region", help="Region of the template when the targets name none.")
def export_fis_command(
    scenario: Path,
    output: Path | None,
    account: str | None,
    role_arn: str | None,
    region: str | None,
) -> None:
    """Write an AWS FIS experiment template for the scenario's AWS faults.

    \b
    The JSON is checked against botocore's FIS model (CreateExperimentTemplate), then
    create it with:
      aws fis create-experiment-template --cli-input-json file://FILE
    What FIS cannot express is listed on stderr as "Note: ...".
    """
    from kunren.injectors.aws.fis_export import export_fis
    from kunren.scenarios.loader import load_scenario

    loaded = load_scenario(scenario)
    result = export_fis(loaded.scenario, account=account, role_arn=role_arn, region=region)
    text = json.dumps(result.template, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise KunrenError(f"cannot write {output}: {exc.strerror or exc}") from exc
        click.echo(f"wrote {output}: {len(result.exported)} faults as FIS actions", err=True)
    for note in result.notes:
        click.echo(f"Note: {note}", err=True)


COMMANDS: list[click.Command] = [export_group]
