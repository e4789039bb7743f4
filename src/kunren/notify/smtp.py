"""The email channel: one message per recipient over SMTP, a few connections in parallel.

One message per recipient (never a long Bcc list) so every recipient gets a result of their
own: a refused address is reported and the others are still sent. Each worker thread keeps
one SMTP connection open for many messages, which is what lets 500 notices leave in seconds
without opening 500 connections; ``concurrency`` caps the connections a mail server sees.
The stdlib ``smtplib`` is enough: STARTTLS or implicit TLS and login are optional, and the
user name and password come from environment variables named in the scenario.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from kunren.notify.base import Channel, from_env
from kunren.notify.message import Delivery, OutgoingNotice, Recipient
from kunren.scenarios.models import Duration

if TYPE_CHECKING:
    from kunren.runtime.context import DrillContext  # annotations only: no clock, no asyncio


class EmailParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    from_address: str = Field(alias="from")
    host: str = "localhost"
    port: int = Field(default=25, ge=1, le=65535)
    starttls: bool = False
    ssl: bool = False  # implicit TLS from the first byte (usually port 465)
    ca_file: str | None = None  # trust this CA (an internal relay's certificate)
    username_env: str | None = None
    password_env: str | None = None
    reply_to: str | None = None
    concurrency: int = Field(default=4, ge=1, le=32)
    timeout: Duration = 30.0


class EmailChannel(Channel[EmailParams]):
    """SMTP: one message per recipient, STARTTLS/login optional, concurrency-limited."""

    name = "email"

    def __init__(self, ctx: DrillContext, params: BaseModel) -> None:
        super().__init__(ctx, params)
        self._login: tuple[str, str] | None = None
        self._prepared = False

    def prepare(self) -> None:
        username = from_env(self.params.username_env, "email username")
        password = from_env(self.params.password_env, "email password")
        self._login = (username, password or "") if username is not None else None
        self._prepared = True

    async def deliver(self, notice: OutgoingNotice, recipients: list[Recipient]) -> Delivery:
        if not recipients:
            return Delivery()
        if not self._prepared:
            self.prepare()
        import asyncio  # here: checking a scenario loads the channel, not asyncio or smtplib

        from kunren.notify.smtp_send import Sender

        sender = Sender(self.params)
        return await asyncio.to_thread(sender.send_all, notice, recipients, self._login)
