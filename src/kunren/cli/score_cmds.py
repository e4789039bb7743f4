"""Commands that read drill records: ``score``, ``report``, ``trend`` and ``import``.

The scoring and rendering libraries are imported inside each command so ``kunren --help``
stays fast; these commands only parse options, call the library and print.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kunren.cli.options import drills_option
from kunren.errors import ObjectivesMissed, UsageError

if TYPE_CHECKING:
    from kunren.scorers import Scorecard, Trend


_plugins_dir = click.option(
    "--plugins-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also run the scorer plugins (*.py) in this folder, e.g. scorers/.",
)


@click.command("score")
@click.argument("drill", type=click.Path(path_type=Path, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the Scorecard as JSON.")
@click.option("--check", is_flag=True, help="Exit 3 when any objective is missed.")
@_plugins_dir
def score_command(drill: Path, as_json: bool, check: bool, plugins_dir: Path | None) -> None:
    """Score one drill: milestone timings per role and person against the objectives.

    \b
    kunren score drills/web-outage-20240717-180000
    kunren score drills/web-outage-20240717-180000 --json --check
    """
    from kunren.reports.records import score_drill
    from kunren.scorers import load_scorers

    card = score_drill(drill, load_scorers(plugins_dir))
    if as_json:
        click.echo(card.model_dump_json(indent=2))
    else:
        click.echo(scorecard_table(card))
    if check and not card.objectives_met:
        raise ObjectivesMissed(f"objectives missed: {', '.join(card.objectives_missed)}")


@click.command("report")
@click.argument(
    "drill_dirs",
    metavar="DRILL...",
    nargs=-1,
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "md", "json"]),
    default="html",
    show_default=True,
    help="html: one self-contained file; md: for a wiki; json: the Scorecard.",
)
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write it (default: reports/<drill-id>.<format>).",
)
@click.option("--lang", type=click.Choice(["en", "ja"]), default="en", show_default=True)
@drills_option(
    "Where earlier drills of the series are (default: the drill's own folder).", default=None
)
@_plugins_dir
def report_command(
    drill_dirs: tuple[Path, ...],
    fmt: str,
    out: Path | None,
    lang: str,
    drills_root: Path | None,
    plugins_dir: Path | None,
) -> None:
    """Write the retro report of a drill, with the trend of its series; prints its path.

    With several drills, the report is about the latest and compares it with the others.

    \b
    kunren report drills/web-outage-20240717-180000
    kunren report drills/web-outage-20240717-180000 --format md --lang ja -o retro.md
    """
    from kunren.reports import write_report

    path = write_report(list(drill_dirs), fmt, out, lang, drills_root, plugins_dir)
    click.echo(str(path))


@click.command("trend")
@click.argument("items", metavar="SERIES-OR-DRILLS...", nargs=-1, required=True)
@drills_option("Where to look for the drills of a series.")
@click.option("--json", "as_json", is_flag=True, help="Print the trend as JSON.")
def trend_command(items: tuple[str, ...], drills_root: Path, as_json: bool) -> None:
    """Compare the drills of a series: "customer_notified: 60+ min → 44 min → 31 min".

    Give a series (the scenario id) to take every drill of it in --drills, or drill folders.

    \b
    kunren trend web-outage
    kunren trend drills/web-outage-20240417-180000 drills/web-outage-20240717-180000
    """
    from kunren.reports.records import find_series, trend_cards
    from kunren.scorers import trend

    folders: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            folders.append(path)
            continue
        found = find_series(drills_root, item)
        if not found:
            raise UsageError(
                f"{item}: neither a drill folder nor a series with drills in {drills_root}"
            )
        folders += found
    cards = trend_cards(list(dict.fromkeys(p.resolve() for p in folders)))
    result = trend(cards)
    click.echo(result.model_dump_json(indent=2) if as_json else trend_table(result))


@click.command("import")
@click.option(
    "--scenario",
    "scenario_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The scenario the drill ran.",
)
@click.argument("timeline", type=click.Path(path_type=Path, dir_okay=False))
@drills_option("Where to create the drill folder.")
@click.option("--start", help="When the drill began, ISO 8601 (default: now).")
def import_command(
    scenario_path: Path, timeline: Path, drills_root: Path, start: str | None
) -> None:
    """Record a drill run by hand (tabletop, or from a spreadsheet) from a CSV timeline.

    The CSV header is at,event,name,actor,role,note; `at` is MM:SS or H:MM:SS from drill
    start. Every bad row is reported as FILE:LINE: COLUMN: message and nothing is written.
    Prints the new drill folder.

    \b
    kunren import --scenario scenarios/web-outage.yaml last-year.csv --start 2024-01-17T18:00+09:00
    """
    from kunren.record.importer import import_timeline

    began = _iso_time(start) if start is not None else None
    click.echo(str(import_timeline(scenario_path, timeline, drills_root, began)))


def _iso_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--start: expected an ISO 8601 time like 2024-07-17T18:00+09:00, got {text!r}"
        ) from None


def scorecard_table(card: Scorecard) -> str:
    """The plain-text score: one line per milestone, then the system, notices and gaps."""
    from kunren.durations import format_clock

    lines = [
        f"{card.drill}  {card.title}  (series {card.series})",
        f"T0 {format_clock(card.t0.at)} ({card.t0.basis.replace('_', ' ')}) · "
        f"ran {format_clock(card.ended_at)} ({card.ended}"
        + (f": {card.end_reason})" if card.end_reason else ")"),
        "",
    ]
    rows = [("MILESTONE", "TIME", "FIRST BY", "OBJECTIVE", "")]
    for m in card.milestones.values():
        if m.objective is None and m.censored and not m.expected_roles:
            continue  # nobody was asked and nobody did it: noise in a table
        who = f"{m.by} ({m.role})" if m.by and m.role else (m.by or "–")
        if m.recorded_seconds is not None:
            who += " [amended]"
        goal, verdict = "–", ""
        if m.objective is not None:
            by = f" by {','.join(m.objective.by)}" if m.objective.by else ""
            goal = f"≤ {_minutes(m.objective.within_seconds)}{by}"
            verdict = "met" if m.objective.met else "MISSED"
        rows.append((m.name, m.display, who, goal, verdict))
    lines += _columns(rows)
    machine = card.machine
    lines.append("")
    if machine.impact is None or machine.first_alert is None:
        lines.append("system: not watched (no probes or alerts)")
    else:
        recovery = machine.recovery.display if machine.recovery else "no impact"
        lines.append(
            f"system: impact {machine.impact.display} · first alert "
            f"{machine.first_alert.display} · recovery {recovery}"
        )
    health = card.team_health
    if health.top_sender is not None:
        lines.append(
            f"notices: {health.notices_sent} sent by {health.notice_senders} "
            f"{'person' if health.notice_senders == 1 else 'people'} (top: "
            f"{health.top_sender.sender} {round(health.top_sender.share * 100)}%)"
        )
    else:
        lines.append("notices: none sent")
    for gap in card.gaps:
        lines.append(f"gap: {gap.text}")
    for item in card.action_items:
        lines.append(f"action: {item.text}")
    for result in card.scorers:
        for metric in result.metrics:
            shown = metric.display or ("–" if metric.value is None else f"{metric.value:g}")
            lines.append(f"{result.scorer}: {metric.label or metric.name}: {shown}")
        lines += [f"{result.scorer}: {finding}" for finding in result.findings]
    met = sum(1 for m in card.milestones.values() if m.objective and m.objective.met)
    total = sum(1 for m in card.milestones.values() if m.objective)
    lines.append(f"objectives: {met} of {total} met")
    return "\n".join(lines)


def trend_table(result: Trend) -> str:
    lines = [f"series {result.series}: {' → '.join(result.drills)}"]
    for line in result.lines:
        change = "" if line.change == "first" else f"  ({line.change})"
        lines.append(f"{line.milestone}: {line.display}{change}")
    lines += [f"note: {notice}" for notice in result.notices]
    return "\n".join(lines)


def _minutes(seconds: float) -> str:
    from kunren.scorers.display import format_timing

    return format_timing(seconds)


def _columns(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


COMMANDS: list[click.Command] = [score_command, report_command, trend_command, import_command]
