"""How an event becomes its line in the record, and the copy of it an append returns.

An append serialises each event once, before it takes the record's lock: ``seq`` is the first
field of every event, so under the lock only ``{"seq":N,`` is put in front of the rest. The
caller gets a copy of its event with that seq; the caller's own event is not changed.
"""

from __future__ import annotations

from pydantic import BaseModel

from kunren.record.events import Event, Note
from kunren.record.tail import TornTail


def line_body(event: Event) -> bytes:
    """``event``'s JSON line after its ``{"seq":N,``: the line is ``{"seq":<seq>,`` + this.

    ``seq`` is the first field of every event, so the line the model writes starts with it.
    """
    raw: bytes = event.__pydantic_serializer__.to_json(event)
    head = b'{"seq":%d,' % event.seq
    if not raw.startswith(head):  # never, as long as seq stays the first field
        raise AssertionError(f"an event's JSON does not start with its seq: {raw[:40]!r}")
    return raw[len(head) :] + b"\n"


def line_with_seq(event: Event, seq: int) -> bytes:
    return b'{"seq":%d,' % seq + line_body(event)


def with_seq(event: Event, seq: int) -> Event:
    """``event.model_copy(update={"seq": seq})``, at half its cost (every append makes one).

    A shallow copy as pydantic's own ``__copy__`` makes it, less what events never have (extra
    fields are forbidden, no private attributes), its slots set through their descriptors;
    ``test_group_commit`` holds it equal to ``model_copy``'s, and a model with private
    attributes takes ``model_copy`` itself.
    """
    cls = type(event)
    if cls.__private_attributes__:
        return event.model_copy(update={"seq": seq})
    fields = event.__dict__.copy()
    fields["seq"] = seq
    copy = cls.__new__(cls)
    _set_attribute(copy, "__dict__", fields)
    _set_fields_set(copy, event.__pydantic_fields_set__ | _SEQ)
    _set_extra(copy, None)
    _set_private(copy, None)
    return copy


# Past the frozen model's own __setattr__, on a new copy: pydantic's slots, set directly.
_set_attribute = object.__setattr__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_SEQ = frozenset({"seq"})


def torn_note(torn: TornTail, first: Event) -> Event:
    """The note that says a torn tail was set aside, stamped like the event that found it."""
    return Note(
        text=f"line {torn.line} was torn by a writer that stopped mid-write (never "
        "acknowledged); set aside in events.torn",
        at=first.at,
        wall=first.wall,
    )
