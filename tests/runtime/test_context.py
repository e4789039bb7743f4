"""drill_context(): one way to make a drill's context, with the same defaults everywhere."""

from __future__ import annotations

from pathlib import Path

from kunren.runtime.clock import RealClock, VirtualClock
from kunren.runtime.context import drill_context
from kunren.scenarios.loader import load_scenario_text

SCENARIO = "version: 1\nid: ctx\ntitle: Context\nduration: 5m\n"


class _Service:
    name = "shop"
    pid: int | None = 4242

    async def restart(self) -> int:
        return 4243


def test_a_loaded_scenario_resolves_paths_against_its_own_folder(tmp_path: Path) -> None:
    loaded = load_scenario_text(SCENARIO, str(tmp_path / "s.yaml"), tmp_path)
    ctx = drill_context(loaded)
    assert ctx.scenario is loaded.scenario
    assert ctx.resolve_path("load/shop.py") == tmp_path / "load" / "shop.py"
    assert isinstance(ctx.clock, VirtualClock)


def test_scenario_dir_overrides_the_loaded_folder(tmp_path: Path) -> None:
    loaded = load_scenario_text(SCENARIO, str(tmp_path / "s.yaml"), tmp_path)
    origin = tmp_path / "origin"
    clock = RealClock()
    ctx = drill_context(loaded, scenario_dir=origin, clock=clock, drill_dir=tmp_path / "d")
    assert ctx.resolve_path("a.csv") == origin / "a.csv"
    assert ctx.clock is clock and ctx.drill_dir == tmp_path / "d"


def test_services_are_the_callers_own_table_not_a_copy(tmp_path: Path) -> None:
    loaded = load_scenario_text(SCENARIO, str(tmp_path / "s.yaml"), tmp_path)
    table: dict[str, _Service] = {}
    ctx = drill_context(loaded, services=table)
    table["shop"] = _Service()  # started after the context was made, as the conductor does
    assert ctx.services["shop"].pid == 4242


def test_two_contexts_share_no_resources(tmp_path: Path) -> None:
    loaded = load_scenario_text(SCENARIO, str(tmp_path / "s.yaml"), tmp_path)
    first, second = drill_context(loaded), drill_context(loaded.scenario)
    first.resources["k"] = object()
    assert "k" not in second.resources
    assert second.resolve_path("x") == Path("x")
