"""Notice quality and cadence: what each customer notice lacked, and whether the promised
next update came on time.

A status page tool times the first notice; the drill also asks whether it was any good. Each
sent notice carries, in its ``notification`` event, the scenario checklist items it did not
meet (``lacking``) and the drill time of the next update it promised (``next_update_at``),
both recorded by the notice service when it sent. From those alone (the record, nothing else)
the built-in scorer fills each ``Notice`` on the Scorecard: whether it was checked, what it
lacked, and for its promise, when the next notice actually went out: on time, late by how
much, or (when the drill ended first) not yet, which is censored and never shown as a
measured number. The report shows them in its Customer notices section.
"""

from __future__ import annotations

from kunren.scenarios.models import Scenario
from kunren.scorers.card import NextUpdate, Notice
from kunren.scorers.display import format_timing
from kunren.scorers.record import DrillRecord

NO_UPDATE = "no update before the drill ended"


def checklist(scenario: Scenario) -> list[str]:
    """What the scenario says every notice must contain (empty: nothing is checked)."""
    return list(scenario.notifications.checklist) if scenario.notifications else []


def checked(record: DrillRecord) -> bool:
    """Whether this drill's notices were held against a checklist as they were sent: an
    imported drill's notices were typed in afterwards, so nothing was checked."""
    return bool(checklist(record.scenario)) and not record.imported


def with_cadence(items: list[Notice], end: float) -> list[Notice]:
    """``items`` with each sent notice's promise held against the first notice sent after it
    (``end``: the drill's end, which bounds a promise nobody kept)."""
    sent = sorted((n.sent_at, n.notice) for n in items if n.sent_at is not None)
    result = []
    for item in items:
        if item.sent_at is None or item.next_update_at is None:
            result.append(item)
            continue
        at = item.sent_at
        later = next(((when, notice) for when, notice in sent if when > at), None)
        kept = next_update(item.next_update_at, later, end)
        result.append(item.model_copy(update={"next_update": kept}))
    return result


def next_update(promised_at: float, later: tuple[float, str] | None, end: float) -> NextUpdate:
    """One promise against ``later`` (when the next notice went out, and its id)."""
    if later is not None:
        when, notice = later
        late = max(0.0, round(when - promised_at, 3))
        return NextUpdate(
            status="late" if late > 0 else "on_time",
            notice=notice,
            at=when,
            late_seconds=late,
            display=f"{format_timing(late)} late" if late > 0 else "on time",
        )
    if promised_at < end:
        bound = round(end - promised_at, 3)
        return NextUpdate(
            status="no_update",
            censored=True,
            bound_seconds=bound,
            display=f"{format_timing(bound, censored=True)} late ({NO_UPDATE})",
        )
    return NextUpdate(status="not_due", display="not due when the drill ended")
