"""A channel's own bug (any exception, not only kunren's) fails its recipients, nothing else."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import BaseModel

from kunren.notify.base import Channel
from kunren.notify.dispatch import _guarded
from kunren.notify.message import Delivery, OutgoingNotice, Recipient
from kunren.plugins import NoParams
from kunren.runtime.clock import VirtualClock
from kunren.runtime.context import drill_context
from kunren.scenarios.models import Scenario


class BuggyChannel(Channel[NoParams]):
    name = "buggy"

    async def deliver(self, notice: OutgoingNotice, recipients: list[Recipient]) -> Delivery:
        raise ValueError("the channel has a bug")


NOTICE = OutgoingNotice(
    notice="n1", drill="d", template="t", lang="en", audience="a", subject="s", body="b", sender="x"
)


def _channel(tmp_path: Path) -> BuggyChannel:
    scenario = Scenario.model_validate({"version": 1, "id": "s", "title": "t", "duration": "1m"})
    ctx = drill_context(scenario, scenario_dir=tmp_path, clock=VirtualClock())
    params: BaseModel = NoParams()
    return BuggyChannel(ctx, params)


def test_a_channel_that_raises_fails_each_recipient_with_the_channel_named(tmp_path: Path) -> None:
    recipients = [Recipient(email="a@example.com"), Recipient(email="b@example.com")]

    delivery = asyncio.run(_guarded(_channel(tmp_path), NOTICE, recipients))

    reason = "channel buggy: send raised ValueError: the channel has a bug"
    assert delivery.error == reason
    assert [(f.recipient, f.reason) for f in delivery.failed] == [
        ("a@example.com", reason),
        ("b@example.com", reason),
    ]
