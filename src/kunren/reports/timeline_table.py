"""The HTML report's table of every timeline entry, built without the template engine.

A big drill's table has one row per event (a hundred thousand rows and more); rendering each
row through Jinja's loop and macro calls cost more than scoring the whole drill. The rows are
the same markup the template wrote, each text through ``esc``.
"""

from __future__ import annotations

from markupsafe import Markup

from kunren.reports.svg import esc
from kunren.reports.texts import Texts
from kunren.scorers.card import Scorecard


def timeline_rows(card: Scorecard, tx: Texts) -> Markup:
    """One ``<tr>`` per timeline entry: time (and when it was recorded), lane, who, what."""
    parts = []
    for e in card.timeline:
        recorded = (
            f'<br><span class="amended">{esc(tx("recorded", t=tx.clock(e.recorded_at)))}</span>'
            if e.recorded_at is not None
            else ""
        )
        role = f' <span class="muted">({esc(e.role)})</span>' if e.role else ""
        label = tx.entry_label(e)
        prov = f' <span class="prov">{esc(label)}</span>' if label else ""
        parts.append(
            f'    <tr><td class="num">{esc(tx.clock(e.at))}{recorded}</td>\n'
            f"        <td>{esc(tx.lane(e.lane))}</td><td>{esc(e.actor or '')}{role}</td>"
            f"<td>{esc(tx.entry(e))}{prov}</td></tr>\n"
        )
    return Markup("".join(parts))
