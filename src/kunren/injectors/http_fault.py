"""The HTTP fault proxy. Placeholder until the conductor work lands."""

from __future__ import annotations

from kunren.injectors.base import NotBuiltInjector


class HttpFault(NotBuiltInjector):
    target_kinds = ("url",)
