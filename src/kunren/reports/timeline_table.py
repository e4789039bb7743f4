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

from dataclasses import dataclass

from markupsafe import Markup

from kunren.reports.svg import esc
from kunren.reports.texts import Texts
from kunren.scorers.card import Scorecard, Shown

PER_KIND = 500  # rows of one kind of entry; the rest are counted in one row


@dataclass
class _LeftOut:
    row: int  # where its row goes: where its first left-out entry would have been
    count: int
    first: float
    last: float


@dataclass(frozen=True)
class TimelineTable:
    rows: Markup
    note: Markup  # where the whole list is, when rows were left out; else empty
    left_out: int  # entries not listed


def timeline_table(card: Scorecard, tx: Texts, per_kind: int = PER_KIND) -> TimelineTable:
    """The table's rows (``<tr>``s) and, when some were left out, the note under it."""
    parts: list[str] = []
    seen: dict[str, int] = {}
    left_out: dict[str, _LeftOut] = {}
    for e in card.entries():
        count = seen[e.kind] = seen.get(e.kind, 0) + 1
        if count <= per_kind:
            parts.append(_row(e, tx))
            continue
        held = left_out.get(e.kind)
        if held is None:
            left_out[e.kind] = _LeftOut(row=len(parts), count=1, first=e.at, last=e.at)
            parts.append("")
        else:  # the timeline is in drill-time order: the first left out is the earliest
            held.count += 1
            held.last = e.at
    for kind, held in left_out.items():
        parts[held.row] = _more_row(kind, held, tx)
    hidden = sum(held.count for held in left_out.values())
    return TimelineTable(
        rows=Markup("".join(parts)), note=_note(card, tx, per_kind, hidden), left_out=hidden
    )


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


def _more_row(kind: str, held: _LeftOut, tx: Texts) -> str:
    text = tx(
        "timeline_more",
        n=f"{held.count:,}",
        kind=kind,
        first=tx.clock(held.first),
        last=tx.clock(held.last),
    )
    return (
        f'    <tr class="more"><td class="num">{esc(tx.clock(held.first))}</td>\n'
        f'        <td></td><td></td><td class="muted">{esc(text)}</td></tr>\n'
    )


def _note(card: Scorecard, tx: Texts, per_kind: int, hidden: int) -> Markup:
    if not hidden:
        return Markup("")
    where = card.record or "events.jsonl"
    text = tx(
        "timeline_bounded",
        limit=f"{per_kind:,}",
        n=f"{hidden:,}",
        total=f"{len(card.entries()):,}",
        drill=card.drill,
        record=where,
    )
    return Markup(f'  <p class="muted timeline-note">{esc(text)}</p>\n')
