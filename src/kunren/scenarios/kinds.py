"""What a scenario asks of a fault or runbook kind before anything runs.

Scenario validation and the runner need a few answers from the kind a fault names: which
target kinds it acts on, whether a given target suits it, whether the scenario must carry a
``safety`` section for it, and whether it touches systems kunren does not own (the runner asks
before such a drill). They are hooks with defaults on this base class, which
``kunren.injectors.Injector`` derives from, so any plugin may answer them and generic code
never special-cases kind names. It lives here, below the plugin packages, because the
scenario loader asks these questions and must not import the injectors.
"""

from __future__ import annotations

from typing import ClassVar

from kunren import plugins
from kunren.scenarios.models import Target

# URLs on this machine: a fault proxy in front of one touches nothing outside it.
LOOPBACK = ("http://127.", "https://127.", "http://localhost", "https://localhost", "http://[::1]")


class FaultKind(plugins.Plugin):
    """The scenario-facing side of an injector: its targets, safety needs and reach."""

    target_kinds: ClassVar[tuple[str, ...]] = ()  # accepted target kinds; () = no target
    needs_safety: ClassVar[bool] = False  # True: the scenario must have a safety section

    @classmethod
    def check_target(cls, target: Target) -> str | None:
        """A load-time check of the target beyond its kind; the problem, or None if it suits."""
        return None

    @classmethod
    def real_systems(cls, target: Target | None) -> str | None:
        """What a fault of this kind acts on that kunren does not own, in words, or None.

        The default judges by the target: a process kunren did not start, or a URL that is
        not on this machine. Kinds acting on shared infrastructure (AWS) say so always.
        """
        if target is None:
            return None
        if target.process is not None and target.process.service is None:
            return "on a process kunren did not start"
        if target.url and not target.url.startswith(LOOPBACK):
            return f"in front of {target.url}"
        return None


# Checked against FaultKind (all this package may know), named as what authors derive from.
FAULT_KINDS: plugins.Group[FaultKind] = plugins.INJECTORS.of(
    FaultKind, expects="kunren.injectors.base.Injector"
)
