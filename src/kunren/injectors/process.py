"""Local process faults. Placeholder until the conductor work lands."""

from __future__ import annotations

from kunren.injectors.base import NotBuiltInjector


class ProcessKill(NotBuiltInjector):
    target_kinds = ("process",)


class ProcessStop(NotBuiltInjector):
    target_kinds = ("process",)


class ProcessRestart(NotBuiltInjector):
    target_kinds = ("process",)
