"""The HTML report's timeline table: every entry of a short drill, a bounded list of a long one.

A company-wide game day records a million events; a table of a million rows is a file no
browser opens (the report of one such drill was 351 MB). So the table lists, of each kind of
entry (alert, notice, milestone, probe failure…), its first ``PER_KIND`` in time order, and
where the first one it leaves out would have been, one row that says how many more there are
and from when to when. A drill of ordinary size has fewer of every kind and loses nothing.
Under the table, in the reader's language, the report says where the whole list is: ``kunren
log`` and the record file. The swimlanes above it still draw every entry (crowded pixel
columns as one counted mark).

The rows are built without the template engine: rendering each through Jinja's loop and macro
calls cost more than scoring the drill. Each text goes through ``esc``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from kunren.reports.svg import esc
from kunren.reports.texts import Texts
from kunren.scorers.card import Scorecard, Shown

PER_KIND = 500  # rows of one kind of entry; the rest are counted in one row


@dataclass
class LeftOut:
    """The entries of one kind past the first ``per_kind``: how many, from when to when."""

    kind: str
    count: int
    first: float
    last: float


def bounded(entries: Sequence[Shown], per_kind: int = PER_KIND) -> list[Shown | LeftOut]:
    """``entries`` with, of each kind, those past the first ``per_kind`` counted in one
    ``LeftOut``, placed where the first of them would have been."""
    items: list[Shown | LeftOut] = []
    seen: dict[str, int] = {}
    left_out: dict[str, LeftOut] = {}
    for e in entries:
        count = seen[e.kind] = seen.get(e.kind, 0) + 1
        if count <= per_kind:
            items.append(e)
            continue
        held = left_out.get(e.kind)
        if held is None:
            items.append(left_out.setdefault(e.kind, LeftOut(e.kind, 1, e.at, e.at)))
        else:  # the timeline is in drill-time order: the first left out is the earliest
            held.count += 1
            held.last = e.at
    return items


@dataclass(frozen=True)
class TimelineTable:
    rows: Markup
    note: Markup  # where the whole list is, when rows were left out; else empty
    left_out: int  # entries not listed


def timeline_table(card: Scorecard, tx: Texts, per_kind: int = PER_KIND) -> TimelineTable:
    """The table's rows (``<tr>``s) and, when some were left out, the note under it."""
    items = bounded(card.entries(), per_kind)
    rows = "".join(_more_row(e, tx) if isinstance(e, LeftOut) else _row(e, tx) for e in items)
    hidden = left_out(items)
    text = bounded_note(card, tx, per_kind, hidden)
    note = Markup(f'  <p class="muted timeline-note">{esc(text)}</p>\n' if text else "")
    return TimelineTable(rows=Markup(rows), note=note, left_out=hidden)


def left_out(items: Sequence[Shown | LeftOut]) -> int:
    """How many entries the ``LeftOut``s among ``items`` stand for."""
    return sum(e.count for e in items if isinstance(e, LeftOut))


def _row(e: Shown, tx: Texts) -> str:
    """One entry: time (and when it was recorded), lane, who, what."""
    recorded = (
        f'<br><span class="amended">{esc(tx("recorded", t=tx.clock(e.recorded_at)))}</span>'
        if e.recorded_at is not None
        else ""
    )
    role = f' <span class="muted">({esc(e.role)})</span>' if e.role else ""
    label = tx.entry_label(e)
    prov = f' <span class="prov">{esc(label)}</span>' if label else ""
    return (
        f'    <tr><td class="num">{esc(tx.clock(e.at))}{recorded}</td>\n'
        f"        <td>{esc(tx.lane(e.lane))}</td><td>{esc(e.actor or '')}{role}</td>"
        f"<td>{esc(tx.entry(e))}{prov}</td></tr>\n"
    )


def more_text(held: LeftOut, tx: Texts) -> str:
    """ "… 480,901 more entries of this kind (alert), from 00:05 to 59:58: not listed here"."""
    return tx(
        "timeline_more",
        n=f"{held.count:,}",
        kind=held.kind,
        first=tx.clock(held.first),
        last=tx.clock(held.last),
    )


def _more_row(held: LeftOut, tx: Texts) -> str:
    return (
        f'    <tr class="more"><td class="num">{esc(tx.clock(held.first))}</td>\n'
        f'        <td></td><td></td><td class="muted">{esc(more_text(held, tx))}</td></tr>\n'
    )


def bounded_note(card: Scorecard, tx: Texts, per_kind: int, hidden: int) -> str:
    """Where the whole timeline is, when ``hidden`` entries were left out; else empty."""
    if not hidden:
        return ""
    return tx(
        "timeline_bounded",
        limit=f"{per_kind:,}",
        n=f"{hidden:,}",
        total=f"{len(card.entries()):,}",
        drill=card.drill,
        record=card.record or "events.jsonl",
    )
