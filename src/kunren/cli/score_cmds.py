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

from kunren.cli.options import DRILLS_DIR, drills_option
from kunren.errors import ObjectivesMissed, UsageError

if TYPE_CHECKING:
    from kunren.record.timeline import DrillProvenance
    from kunren.scorers import Scorecard, Trend


_plugins_dir = click.option(
    "--plugins-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also run the scorer plugins (*.py) in this folder, e.g. scorers/.",
)


@click.command("score")
@click.argument("drill")
@drills_option()
@click.option("--json", "as_json", is_flag=True, help="Print the Scorecard as JSON.")
@click.option("--check", is_flag=True, help="Exit 3 when any objective is missed.")
@_plugins_dir
def score_command(
    drill: str, drills_root: Path, as_json: bool, check: bool, plugins_dir: Path | None
) -> None:
    """Score one DRILL (id or folder): milestone timings per role and person against the
    objectives.

    \b
    kunren score web-outage-20240717-180000
    kunren score drills/web-outage-20240717-180000 --json --check
    """
    from kunren.record.attach import find_drill
    from kunren.reports.records import score_drill
    from kunren.scorers import load_scorers

    # the text view shows no timeline: only --json needs every entry built
    drill_dir = find_drill(drill, drills_root)
    card = score_drill(drill_dir, load_scorers(plugins_dir), timeline=as_json)
    if as_json:
        click.echo(card.model_dump_json(indent=2))
    else:
        click.echo(scorecard_table(card))
    if check and not card.objectives_met:
        parts = [f"objectives missed: {', '.join(card.objectives_missed)}"]
        if card.objectives_open:
            parts = parts if card.objectives_missed else []
            parts.append(f"not due when the drill stopped: {', '.join(card.objectives_open)}")
        raise ObjectivesMissed("; ".join(parts))


@click.command("report")
@click.argument("drills", metavar="DRILL...", nargs=-1, required=True)
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
    "Where drill ids are looked up, and earlier drills of the series are "
    "(default: ./drills for ids, else the drill's own folder).",
    default=None,
)
@_plugins_dir
def report_command(
    drills: tuple[str, ...],
    fmt: str,
    out: Path | None,
    lang: str,
    drills_root: Path | None,
    plugins_dir: Path | None,
) -> None:
    """Write the retro report of a drill, with the trend of its series; prints its path.

    Each DRILL is a drill id or folder. With several drills, the report is about the latest
    and compares it with the others.

    \b
    kunren report web-outage-20240717-180000
    kunren report drills/web-outage-20240717-180000 --format md --lang ja -o retro.md
    """
    from kunren.record.attach import find_drill
    from kunren.reports import write_report

    folders = [find_drill(drill, drills_root or DRILLS_DIR) for drill in drills]
    path = write_report(folders, fmt, out, lang, drills_root, plugins_dir)
    click.echo(str(path))


@click.command("trend")
@click.argument("items", metavar="SERIES-OR-DRILLS...", nargs=-1, required=True)
@drills_option("Where to look for the drills of a series.")
@click.option("--json", "as_json", is_flag=True, help="Print the trend as JSON.")
def trend_command(items: tuple[str, ...], drills_root: Path, as_json: bool) -> None:
    """Compare the drills of a series: "customer_notified: 60+ min → 44 min → 31 min".

    Give a series (the scenario id) to take every drill of it in --drills, or drills (ids or
    folders).

    \b
    kunren trend web-outage
    kunren trend drills/web-outage-20240417-180000 drills/web-outage-20240717-180000
    """
    from kunren.reports.records import series_folders, trend_summaries
    from kunren.scorers.trend import trend_of

    folders: list[Path] = []
    for item in items:
        for path in (Path(item), drills_root / item):
            if (path / "events.jsonl").is_file():
                folders.append(path)
                break
        else:
            found = series_folders(drills_root, item)
            if not found:
                raise UsageError(
                    f"{item}: neither a drill folder nor a series with drills in {drills_root}"
                )
            folders += found
    result = trend_of(trend_summaries(folders))
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
    """The plain-text score: what kind of drill, one line per milestone (with who produced
    each mark when it was not a live participant), then the system, notices and gaps."""
    from kunren.durations import format_clock
    from kunren.record.timeline import NOT_LIVE

    lines = [
        f"{card.drill}  {card.title}  (series {card.series})",
        f"drill: {provenance_words(card.provenance)} · marks by "
        + (", ".join(_SOURCES[s] for s in card.provenance.sources) or "nobody"),
        f"T0 {format_clock(card.t0.at)} ({card.t0.basis.replace('_', ' ')}) · "
        f"ran {format_clock(card.ended_at)} ({card.ended}"
        + (f": {card.end_reason})" if card.end_reason else ")")
        + f" · observed {_minutes(card.observed_seconds)} after T0",
        "",
    ]
    rows = [("MILESTONE", "TIME", "BY", "SOURCE", "OBJECTIVE", "")]
    for m in card.milestones.values():
        if m.objective is None and m.censored and not m.expected_roles:
            continue  # nobody was asked and nobody did it: noise in a table
        head = m.headline()  # with a by: objective, the time its roles reached it
        who = f"{head.by} ({head.role})" if head.by and head.role else (head.by or "–")
        if head.recorded_seconds is not None:
            who += " [amended]"
        goal, verdict = "–", ""
        if m.objective is not None:
            by = f" by {','.join(m.objective.by)}" if m.objective.by else ""
            goal = f"≤ {_minutes(m.objective.within_seconds)}{by}"
            verdict = _VERDICTS[m.objective.status]
        source = head.source if head.source in NOT_LIVE and head.source != "import" else ""
        rows.append((m.name, head.display, who, source or "", goal, verdict))
    lines += _columns(rows)
    machine = card.machine
    lines.append("")
    if machine.impact is None:
        lines.append("system: not watched (no probes or alerts)")
    else:
        recovery = machine.recovery.display if machine.recovery else "no impact"
        alert = (
            f"first alert {machine.first_alert.display}"
            if machine.first_alert is not None
            else "no alert reached kunren (no source connected, or nothing fired)"
        )
        lines.append(f"system: impact {machine.impact.display} · {alert} · recovery {recovery}")
        if machine.firing_at_t0:
            lines.append(
                f"alerts already firing at T0 (left out): {', '.join(machine.firing_at_t0)}"
            )
    for run in card.faults:
        if run.alert is not None:
            clear = f", cleared {run.alert.clear_display} after" if run.alert.clear_display else ""
            lines.append(f"fault {run.fault}: alert {run.alert.name} {run.alert.display}{clear}")
    health = card.team_health
    if health.top_sender is not None:
        lines.append(
            f"notices: {health.notices_sent} sent by {health.notice_senders} "
            f"{'person' if health.notice_senders == 1 else 'people'} (top: "
            f"{health.top_sender.sender} {round(health.top_sender.share * 100)}%)"
        )
    else:
        lines.append("notices: none sent")
    for notice in card.notices:
        if notice.failures or notice.partial:
            lines.append(
                f"notice {notice.notice}: {notice.status}, {notice.attempts} attempts, "
                f"{notice.failures} failed, {notice.retries} retries"
            )
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
    still_open = f" ({len(card.objectives_open)} not due when it stopped)"
    lines.append(f"objectives: {met} of {total} met" + (still_open if card.objectives_open else ""))
    return "\n".join(lines)


_VERDICTS = {"met": "met", "missed": "MISSED", "open": "not due"}
_SOURCES = {
    "conductor": "the conductor",
    "participant": "participants",
    "facilitator": "the facilitator",
    "simulated": "simulated people",
    "alert": "alerts",
    "notice": "notices sent",
    "import": "a hand-kept timeline",
}


def provenance_words(p: DrillProvenance | None) -> str:
    """``live, real time`` / ``imported`` / ``live, scaled x40, simulated people``."""
    if p is None:
        return "unknown"
    words = [{"live": "live", "import": "imported", "tabletop": "tabletop"}[p.kind]]
    if p.clock == "scaled":
        words.append(f"scaled ×{p.speed:g}")
    elif p.clock == "virtual":
        words.append("virtual clock")
    elif p.kind != "import":
        words.append("real time")
    if p.simulated:
        words.append("simulated people")
    return ", ".join(words)


def trend_table(result: Trend) -> str:
    drills = [f"{d} ({provenance_words(result.provenance.get(d))})" for d in result.drills]
    lines = [f"series {result.series}: {' → '.join(drills)}"]
    for line in result.lines:
        change = "" if line.change == "first" else f"  ({line.change})"
        lines.append(f"{line.milestone}: {line.display}{change}")
    if result.not_comparable:
        lines.append(f"left out (stopped before T0): {', '.join(result.not_comparable)}")
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
