"""Names a package re-exports, imported the first time they are used (PEP 562).

``kunren``, ``kunren.notify`` and ``kunren.notify.channels`` name their public classes in an
``_EXPORTS`` table (name → module) and resolve them from their module ``__getattr__``: importing
the package costs nothing until a name is used, and a name once used is kept in the package's
namespace, so it is resolved once.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any


def resolve(namespace: dict[str, Any], exports: Mapping[str, str], name: str) -> Any:
    """The value of ``name`` from the module ``exports`` names for it, kept in ``namespace``."""
    module = exports.get(name)
    if module is None:
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    namespace[name] = value
    return value
