"""The channel interface: how one rendered notice reaches (or is kept from) its recipients.

Channels are plugins (entry-point group ``kunren.channels``) so a team can add its own, such
as a ticketing system, exactly like the built-ins register. A channel never raises for one
bad recipient: it returns a ``Delivery`` with per-recipient results, and the notice service
records them. The drill allowlist is applied by the service before a channel is called, so
a channel only ever sees the recipients it may really reach.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar, cast

from pydantic import BaseModel

from kunren import plugins
from kunren.errors import PluginError
from kunren.notify.message import Delivery, OutgoingNotice, Recipient

if TYPE_CHECKING:
    from kunren.runtime.context import DrillContext  # annotations only: no clock, no asyncio

P = TypeVar("P", bound=BaseModel, covariant=True)


class Channel(plugins.Plugin, ABC, Generic[P]):
    """Base of notification channels.

    ``class MyChannel(Channel[MyParams])``: ``self.params`` is a ``MyParams``, validated from
    the scenario's ``notifications.channels`` entry.
    """

    name: ClassVar[str] = ""
    per_recipient: ClassVar[bool] = True  # False: one message to one destination (broadcast)
    drill_folder_only: ClassVar[bool] = False  # True: writes only into the drill folder

    def __init__(self, ctx: DrillContext, params: BaseModel) -> None:
        self.ctx = ctx
        self.params: P = cast(P, self.own_params(params))

    def destination(self) -> str:
        """A broadcast channel's target (webhook URL, topic ARN), checked on the allowlist."""
        return ""

    def prepare(self) -> None:
        """Resolve settings and secrets before anything is sent; raise PluginError if wrong.

        Called for every channel of a notice first, so one misconfigured channel sends nothing
        rather than leaving a notice half-sent.
        """
        self.destination()

    def captured_form(self, notice: OutgoingNotice) -> str:
        """What a broadcast channel would have sent, written to the drill folder instead."""
        return notice.model_dump_json(indent=2)

    @property
    def drill_dir(self) -> Path:
        if self.ctx.drill_dir is None:
            raise PluginError(f"channel {self.name} needs a drill folder")
        return self.ctx.drill_dir

    @abstractmethod
    async def deliver(self, notice: OutgoingNotice, recipients: list[Recipient]) -> Delivery:
        """Send ``notice`` to ``recipients`` (for a broadcast channel: to its destination)."""

    async def close(self) -> None:
        """Release connections and sessions."""


def from_env(variable: str | None, what: str) -> str | None:
    """A secret named by an environment variable (never written in the scenario itself)."""
    if variable is None:
        return None
    value = os.environ.get(variable)
    if value is None:
        raise PluginError(f"{what}: environment variable {variable} is not set")
    return value


AnyChannel = Channel[BaseModel]
"""A channel of any kind (its parameters unknown to the caller)."""

# type-abstract: see kunren.injectors.base.INJECTORS
CHANNELS: plugins.Group[AnyChannel] = plugins.CHANNELS.of(Channel)  # type: ignore[type-abstract]
"""The ``kunren.channels`` group, loading ``type[Channel]``."""
