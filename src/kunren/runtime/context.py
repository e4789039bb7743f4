"""What plugins are given to act: the scenario, its folder, the clock and the drill's resources.

One ``DrillContext`` per drill; plugins never reach for global state (no global boto3 session,
no module-level caches), so two drills in one process cannot disturb each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kunren.runtime.clock import Clock, VirtualClock
from kunren.scenarios.models import Scenario, Target


class ServiceHandle(Protocol):
    """A local service the drill started and owns (see ``scenario.services``)."""

    name: str

    @property
    def pid(self) -> int | None: ...

    async def restart(self) -> int: ...


@dataclass
class DrillContext:
    scenario: Scenario
    scenario_dir: Path = Path(".")
    drill_dir: Path | None = None
    clock: Clock = field(default_factory=VirtualClock)
    services: dict[str, ServiceHandle] = field(default_factory=dict)
    profile: str | None = None  # AWS profile from --profile
    dry_run: bool = False
    seed: int = 0
    resources: dict[str, Any] = field(default_factory=dict)  # per-drill caches (AWS sessions…)

    def target(self, name: str | None) -> Target | None:
        return self.scenario.targets.get(name) if name else None

    def resolve_path(self, relative: str) -> Path:
        path = Path(relative)
        return path if path.is_absolute() else self.scenario_dir / path
