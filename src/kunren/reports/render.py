"""Turning a Scorecard into the retro report: HTML (one self-contained file), Markdown or JSON.

Renderers read only the Scorecard (with its trend), never the record, so every format says
the same thing. Templates live beside this module in ``templates/``; the HTML inlines its CSS
and SVG so it opens offline, mails as one attachment and prints.
"""

from __future__ import annotations

import html
import re
from contextlib import suppress
from functools import cache
from importlib import resources

import jinja2
from markupsafe import Markup

from kunren import __version__
from kunren.errors import UsageError
from kunren.reports.notice_quality import notice_quality
from kunren.reports.swimlanes import timeline_svg
from kunren.reports.texts import LANGS, Texts
from kunren.reports.timeline_table import (
    PER_KIND,
    LeftOut,
    bounded,
    bounded_note,
    left_out,
    more_text,
    timeline_table,
)
from kunren.reports.trendchart import trend_svg
from kunren.scorers.card import MilestoneResult, Scorecard, Timing, TrendLine
from kunren.scorers.display import join_trend

FORMATS: dict[str, str] = {"html": "html", "md": "md", "json": "json"}  # format -> file suffix


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between processes: compiling the HTML report's template is a
    tenth of a second of every ``kunren run``. Jinja keys each entry by the template's source
    checksum, so an edited template is compiled again. A cache that cannot be read or written
    (a full disk, a file-size limit) is skipped: it must never cost the report."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with suppress(OSError, EOFError, ValueError):
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with suppress(OSError):
            super().dump_bytecode(bucket)


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    try:
        return _QuietBytecodeCache()  # a private per-user folder in the temp directory
    except (OSError, RuntimeError):
        return None


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kunren.reports", "templates"),
        bytecode_cache=_bytecode_cache(),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = markdown_cell
    env.filters["text"] = markdown_text
    return env


def markdown_text(value: object) -> str:
    """Participant text safe in a Markdown page: wikis render raw HTML, so a ``<script>`` in
    a name must arrive as text. HTML-escaped, and Markdown's own specials backslashed."""
    escaped = html.escape(str(value), quote=False)
    return _MD_SPECIALS.sub(r"\\\g<0>", escaped)


def markdown_cell(value: object) -> str:
    """Text safe inside a Markdown table cell: escaped as text, pipes escaped, one line."""
    return markdown_text(" ".join(str(value).split())).replace("|", "\\|")


_MD_SPECIALS = re.compile(r"[\\`*\[\]]")


def _css() -> Markup:
    # Trusted text from our own package; escaping would turn its quotes into &#34;.
    css = resources.files("kunren.reports").joinpath("templates/report.css").read_text("utf-8")
    return Markup(css)


def render(card: Scorecard, fmt: str = "html", lang: str = "en") -> str:
    """The report text for ``card`` in ``fmt`` (html, md, json) and ``lang`` (en, ja)."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown report format {fmt!r}; one of: {', '.join(FORMATS)}")
    if lang not in LANGS:
        raise UsageError(f"unknown language {lang!r}; one of: {', '.join(LANGS)}")
    if fmt == "json":
        return card.model_dump_json(indent=2) + "\n"
    tx = Texts(lang, card)
    context = _context(card, tx)
    if fmt == "html":
        table = timeline_table(card, tx)
        context.update(
            css=_css(),
            timeline_svg=timeline_svg(card, tx),
            timeline_rows=table.rows,
            timeline_note=table.note,
            trend_svg=trend_svg(card.trend, tx) if card.trend else "",
        )
    if fmt == "md":
        items = bounded(card.entries())
        context.update(
            timeline_items=[
                (None, more_text(e, tx)) if isinstance(e, LeftOut) else (e, "") for e in items
            ],
            timeline_note=bounded_note(card, tx, PER_KIND, left_out(items)),
        )
    template = _environment().get_template(f"report.{fmt}.j2")
    return template.render(context)


def _context(card: Scorecard, tx: Texts) -> dict[str, object]:
    milestones = list(card.milestones.values())
    objectives = [m for m in milestones if m.objective is not None]
    shown_milestones = [m for m in milestones if _worth_showing(m)]

    def shown(timing: Timing) -> str:
        return tx.shown(timing.display, timing.seconds, timing.bound_seconds, timing.censored)

    def trend_text(line: TrendLine) -> str:
        return join_trend([tx.point(p) for p in line.points])

    return {
        "card": card,
        "tx": tx,
        "version": __version__,
        "objectives": objectives,
        "objectives_met_count": sum(1 for m in objectives if m.objective and m.objective.met),
        "headline": objectives or [m for m in milestones if not m.censored],
        "trend_by": {line.milestone: line for line in card.trend.lines} if card.trend else {},
        "shown_milestones": shown_milestones,
        "roles": _roles(card, shown_milestones),
        "people": [
            (person, role) for role, names in card.team_health.people.items() for person in names
        ],
        "shown": shown,
        "notified_mark": _notified_by_mark(card),
        "quality": notice_quality(card, tx),
        "trend_text": trend_text,
        "notes_shown": card.notes[:PER_KIND],
        "notes_more": _notes_more(card, tx),
    }


def _notes_more(card: Scorecard, tx: Texts) -> str:
    """Of a long record's notes the HTML lists the first ``PER_KIND``, like the timeline
    table, and says how many more there are and where they are."""
    rest = card.notes[PER_KIND:]
    if not rest:
        return ""
    return tx(
        "notes_more",
        n=f"{len(rest):,}",
        first=tx.clock(min(n.at for n in rest)),
        last=tx.clock(max(n.at for n in rest)),
        drill=card.drill,
    )


def _notified_by_mark(card: Scorecard) -> Timing | None:
    """customer_notified reached by a mark while no notice went through kunren: the notices
    section says so, instead of "no customer notice was sent" beside a met objective."""
    notified = card.milestones.get("customer_notified")
    if card.notices or notified is None or notified.censored or notified.by is None:
        return None
    return notified.headline()


def _worth_showing(m: MilestoneResult) -> bool:
    return m.objective is not None or not m.censored or bool(m.expected_roles)


def _roles(card: Scorecard, milestones: list[MilestoneResult]) -> list[str]:
    roles = list(card.scenario.roles)
    for m in milestones:
        roles += [role for role in m.per_role if role not in roles]
    return roles
