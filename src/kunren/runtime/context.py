"""What plugins are given to act: the scenario, its folder, the clock and the drill's resources.

One ``DrillContext`` per drill, made by ``drill_context()`` wherever one is needed (the
conductor, revert after a crash, a dry run, ``kunren notify`` from a terminal, tests), so each
gets the same defaults: relative paths resolve against the scenario's own folder, and a context
made without a clock runs on a virtual one. Plugins never reach for global state (no global
boto3 session, no module-level caches), so two drills in one process cannot disturb each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, assert_never

from kunren.runtime.clock import Clock, VirtualClock, make_clock
from kunren.scenarios.loader import LoadedScenario
from kunren.scenarios.models import Scenario, Target
from kunren.scenarios.params import PluginParams


class ServiceHandle(Protocol):
    """A local service the drill started and owns (see ``scenario.services``)."""

    name: str

    @property
    def pid(self) -> int | None: ...

    async def restart(self) -> int: ...


@dataclass(kw_only=True)
class DrillContext:
    scenario: Scenario
    scenario_dir: Path = Path(".")
    drill_dir: Path | None = None
    clock: Clock = field(default_factory=VirtualClock)
    # The conductor's own table of the services it started: stored once, read here.
    services: Mapping[str, ServiceHandle] = field(default_factory=dict)
    profile: str | None = None  # AWS profile from --profile
    dry_run: bool = False
    seed: int = 0
    # The plugin parameters validated when the scenario loaded (none for a bare Scenario).
    params: PluginParams = field(default_factory=PluginParams)
    # Per-drill shared objects (the AWS sessions, a fault proxy shared by several faults):
    # each owner checks the type of what it reads back.
    resources: dict[str, object] = field(default_factory=dict)

    def target(self, name: str | None) -> Target | None:
        return self.scenario.targets.get(name) if name else None

    def resolve_path(self, relative: str) -> Path:
        path = Path(relative)
        return path if path.is_absolute() else self.scenario_dir / path


def drill_context(
    scenario: LoadedScenario | Scenario,
    *,
    clock: Clock | None = None,
    drill_dir: Path | None = None,
    scenario_dir: Path | None = None,
    profile: str | None = None,
    seed: int = 0,
    dry_run: bool = False,
    services: Mapping[str, ServiceHandle] | None = None,
) -> DrillContext:
    """The context of one drill of ``scenario``.

    A ``LoadedScenario`` brings its folder (``scenario_dir`` overrides it, e.g. the folder a
    snapshot's scenario came from); a bare ``Scenario`` resolves paths against
    ``scenario_dir`` or the working directory.
    """
    match scenario:
        case LoadedScenario():
            model, folder, params = scenario.scenario, scenario.dir, scenario.params
        case Scenario():
            model, folder, params = scenario, Path("."), PluginParams()
        case _:
            assert_never(scenario)
    return DrillContext(
        scenario=model,
        scenario_dir=scenario_dir if scenario_dir is not None else folder,
        drill_dir=drill_dir,
        clock=clock if clock is not None else make_clock("virtual"),
        services=services if services is not None else {},
        profile=profile,
        seed=seed,
        dry_run=dry_run,
        params=params,
    )
