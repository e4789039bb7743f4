"""The typed values a notice passes between templates, audiences, channels and the service.

A notice is rendered once (subject and body, already marked ``[DRILL]``) and then handed to
every channel unchanged, so what the approver saw is exactly what each channel sends. Channels
answer with a ``Delivery``: per-recipient results, never an exception for one bad recipient.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from kunren.factories import new_list

DRILL_MARKER = "[DRILL]"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Recipient(_Frozen):
    """One row of an audience file."""

    email: str
    name: str = ""
    segment: str = ""
    language: str = ""


class OutgoingNotice(_Frozen):
    """A rendered, marked notice ready for channels; identical for every channel."""

    notice: str
    drill: str
    scenario_title: str = ""
    template: str
    lang: str
    audience: str
    subject: str
    body: str
    sender: str
    role: str | None = None
    approver: str | None = None
    marker: str = DRILL_MARKER
    at: float = 0.0  # drill time of the send
    wall: str = ""  # wall time of the send, ISO 8601


class RecipientFailure(_Frozen):
    recipient: str
    reason: str


class Delivery(_Frozen):
    """What one channel did with one notice.

    ``delivered`` and ``failed`` hold recipients (addresses, or a broadcast channel's
    destination); ``captured`` those written to the drill folder instead of being sent.
    ``error`` is set when the channel could not act at all (no connection, bad settings).
    """

    delivered: list[str] = Field(default_factory=new_list)
    failed: list[RecipientFailure] = Field(default_factory=new_list)
    captured: list[str] = Field(default_factory=new_list)
    error: str = ""
