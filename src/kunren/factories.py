"""Default factories for pydantic fields: ``Field(default_factory=new_list)``, never ``list``.

Pydantic looks at a field's default factory when it builds the model, to see whether it takes
the validated data: ``inspect.signature`` of the factory. For the builtin ``list`` that means
parsing its text signature with the tokenizer, about 80 µs a field plus the tokenizer's own
warm-up on the first (``dict`` has none, and fails fast); together about 12 ms of a tiny
``kunren run``, whose models have 83 such fields. A plain function's signature costs about
7 µs, and ``new_dict`` keeps the two alike. Stdlib dataclasses do not look, so
``field(default_factory=list)`` stays as it is there. ``tests/test_factories.py`` keeps the
builtins out of pydantic fields.
"""

from __future__ import annotations

from typing import Any


def new_list() -> list[Any]:
    """A new empty list."""
    return []


def new_dict() -> dict[Any, Any]:
    """A new empty dict."""
    return {}
