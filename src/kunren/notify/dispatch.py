"""Handing one rendered notice to its channels, with the drill's safety rules applied once.

The channels themselves know nothing about drills: this module decides, per channel, who is
really reached (allowlisted addresses, allowlisted broadcast destinations, or everyone when
the drill is live) and captures the rest into the drill folder. Channels are set up before
anything is sent, so a configuration mistake sends nothing; once sending starts, a channel
that fails becomes failed recipients and never stops the other channels.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pydantic import ValidationError

from kunren import plugins
from kunren.errors import KunrenError, Problem, ScenarioError
from kunren.notify.base import CHANNELS, AnyChannel
from kunren.notify.capture import CaptureSink
from kunren.notify.message import Delivery, OutgoingNotice, Recipient, RecipientFailure
from kunren.notify.safety import Allowlist
from kunren.runtime.context import DrillContext
from kunren.scenarios.models import ChannelSpec, Notifications

HELD_REASON = "not on the drill allowlist"


def make_channel(ctx: DrillContext, notifications: Notifications, name: str) -> AnyChannel:
    """The channel ``name`` with its parameters from the scenario.

    A channel the scenario configures gets the parameters validated when it loaded; one it
    does not (or a scenario loaded without plugin checks) has them validated here, and what
    is wrong is said against ``notifications.channels``.
    """
    specs = notifications.channels
    index = next((i for i, spec in enumerate(specs) if spec.name == name), None)
    spec = specs[index] if index is not None else ChannelSpec(name=name)
    cls = plugins.require(CHANNELS, name)
    validated = ctx.params.get("channels", name) if index is not None else None
    if validated is not None:
        return cls(ctx, validated)
    try:
        params = cls.Params.model_validate(spec.params)
    except ValidationError as exc:
        raise ScenarioError(
            [_problem(name, index, error["loc"], error["msg"]) for error in exc.errors()]
        ) from exc
    return cls(ctx, params)


def _problem(name: str, index: int | None, loc: tuple[object, ...], message: str) -> Problem:
    key = ".".join(str(part) for part in loc)
    if index is None:
        where = f"{key}: " if key else ""
        return Problem(
            "scenario.yaml",
            None,
            "notifications.channels",
            f"{name} is not configured in this scenario ({where}{message})",
        )
    path = ".".join(part for part in (f"notifications.channels[{index}].{name}", key) if part)
    return Problem("scenario.yaml", None, path, message)


class Dispatcher:
    def __init__(
        self, ctx: DrillContext, allowlist: Allowlist, sink: CaptureSink, live: bool
    ) -> None:
        self.ctx = ctx
        self.allowlist = allowlist
        self.sink = sink
        self.live = live

    async def dispatch(
        self, channels: Sequence[AnyChannel], notice: OutgoingNotice, recipients: list[Recipient]
    ) -> list[tuple[int, Delivery]]:
        """(recipient count, delivery) per channel, in the order given."""
        try:
            with self.ctx.clock.busy():
                return list(
                    await asyncio.gather(
                        *(self._one(channel, notice, recipients) for channel in channels)
                    )
                )
        finally:
            for channel in channels:
                await channel.close()

    async def _one(
        self, channel: AnyChannel, notice: OutgoingNotice, recipients: list[Recipient]
    ) -> tuple[int, Delivery]:
        captured: list[str]
        held: list[Recipient]
        if channel.per_recipient:
            if channel.drill_folder_only:
                reached, held = recipients, []
            else:
                reached, held = self.allowlist.split(recipients, self.live)
            delivery = await _guarded(channel, notice, reached)
            captured = self.sink.write_messages(notice, held, channel.name, HELD_REASON)
            count = len(recipients)
        else:
            destination = channel.destination()
            if (
                channel.drill_folder_only
                or self.live
                or self.allowlist.allows_destination(destination)
            ):
                delivery = await _guarded(channel, notice, recipients, destination)
                captured = []
            else:
                form = channel.captured_form(notice)
                self.sink.write_payload(notice, channel.name, destination, form, HELD_REASON)
                delivery, captured = Delivery(), [destination]
            count = 1
        if not channel.drill_folder_only:
            self.sink.record_results(notice, channel.name, delivery)
        return count, delivery.model_copy(update={"captured": delivery.captured + captured})


async def _guarded(
    channel: AnyChannel, notice: OutgoingNotice, recipients: list[Recipient], destination: str = ""
) -> Delivery:
    """A channel's own failure becomes failed recipients, never an exception for the others."""
    if channel.per_recipient and not recipients:
        return Delivery()
    try:
        return await channel.deliver(notice, recipients)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a channel is plugin code: whatever it raises fails its recipients
        reason = exc.message if isinstance(exc, KunrenError) else _foreign(channel, exc)
        targets = [r.email for r in recipients] if channel.per_recipient else [destination]
        return Delivery(
            failed=[RecipientFailure(recipient=t, reason=reason) for t in targets], error=reason
        )


def _foreign(channel: AnyChannel, exc: Exception) -> str:
    """An OSError is the network's ("Connection refused"); anything else is the channel's bug."""
    if isinstance(exc, OSError):
        return str(exc)
    return f"channel {channel.name}: send raised {type(exc).__name__}: {exc}"
