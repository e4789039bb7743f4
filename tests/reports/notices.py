"""A drill record for the notice quality and cadence section: a checklist of five items, a
notice lacking two of them, a promised update kept, one broken, and one the drill ended on."""

from __future__ import annotations

from kunren.record.events import Event, Notification
from kunren.scenarios.models import Scenario
from kunren.scorers import Scorecard, score
from tests.scorers.helpers import record, scenario

CHECKLIST = ["affected", "workaround", "next_update", "no_eta", "no_internal_hosts"]


def sent(
    notice: str,
    at: float,
    *,
    sender: str = "aiko",
    template: str = "investigating",
    lacking: tuple[str, ...] = (),
    promised: float | None = None,
) -> Notification:
    return Notification(
        at=at,
        notice=notice,
        status="sent",
        channel="email",
        audience="all-customers",
        template=template,
        recipients=10,
        delivered=10,
        sender=sender,
        role="support",
        lacking=list(lacking),
        next_update_at=promised,
    )


def quality_events() -> list[Event]:
    """T+10:00 lacks two items and promises T+30:00, kept by T+25:00; T+25:00 promises T+40:00,
    broken (T+48:00, 8 min late); T+48:00 promises T+50:00 and the drill ends at T+60:00."""
    return record(
        sent("n-1", 600, lacking=("workaround", "no_internal_hosts"), promised=1800),
        sent("n-2", 1500, sender="ken", template="identified", promised=2400),
        sent("n-3", 2880, promised=3000),
        end=3600,
    )


def quality_scenario() -> Scenario:
    return scenario(notifications={"checklist": CHECKLIST})


def quality_card() -> Scorecard:
    return score(quality_scenario(), quality_events())
