"""The plugin contract: checked classes from the registry, parameters typed per kind, hooks
declared on the base classes with defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from kunren import plugins
from kunren.errors import PluginError
from kunren.injectors.aws import Ec2Stop, Ec2Terminate, FisExperiment
from kunren.injectors.aws.ec2 import Ec2StopParams
from kunren.injectors.base import INJECTORS, FaultRequest, Injected, Injector
from kunren.injectors.http_fault import HttpFault, HttpFaultParams
from kunren.injectors.process import ProcessKill, ProcessKillParams, ProcessRestart
from kunren.injectors.requests import request_for_fault, request_for_runbook
from kunren.notify.base import CHANNELS
from kunren.notify.sns import SnsChannel, SnsParams
from kunren.probes.base import PROBES, Probe
from kunren.probes.http import HttpProbe, HttpProbeParams
from kunren.runtime.context import drill_context
from kunren.scenarios.kinds import FAULT_KINDS
from kunren.scenarios.loader import load_scenario_text
from kunren.scenarios.models import Scenario, Target
from kunren.scorers.base import SCORERS
from kunren.scorers.milestones import MilestoneScorer


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str


def _scenario() -> Scenario:
    return Scenario.model_validate({"version": 1, "id": "c", "title": "C", "duration": "5m"})


def test_each_typed_group_loads_the_class_its_entry_point_names() -> None:
    assert plugins.load(INJECTORS, "process.kill") is ProcessKill
    assert plugins.load(INJECTORS, "aws.ec2.stop") is Ec2Stop
    assert plugins.load(FAULT_KINDS, "http.fault") is HttpFault
    assert plugins.load(PROBES, "http") is HttpProbe
    assert plugins.load(CHANNELS, "sns") is SnsChannel
    assert plugins.load(SCORERS, "milestones") is MilestoneScorer


def test_a_plugin_registered_in_a_group_must_derive_from_its_base() -> None:
    as_probe = plugins.INJECTORS.of(Probe)  # type: ignore[type-abstract]
    with pytest.raises(PluginError) as caught:
        plugins.load(as_probe, "process.kill")
    assert str(caught.value) == (
        "fault kind 'process.kill' (kunren.injectors.process:ProcessKill) "
        "is not a kunren.probes.base.Probe subclass"
    )


def test_an_unknown_name_is_a_plugin_error_naming_the_group_noun() -> None:
    with pytest.raises(PluginError, match=r"^unknown probe kind 'htp'$"):
        plugins.load(PROBES, "htp")


def test_the_generic_argument_gives_the_class_its_params() -> None:
    assert ProcessKill.Params is ProcessKillParams
    assert HttpFault.Params is HttpFaultParams
    assert Ec2Stop.Params is Ec2StopParams
    assert HttpProbe.Params is HttpProbeParams
    assert SnsChannel.Params is SnsParams
    assert Ec2Terminate.Params is plugins.NoParams


def test_params_that_disagree_with_the_generic_argument_are_refused_at_class_creation() -> None:
    with pytest.raises(TypeError, match=r"Params is NoParams, but the class is declared with _P"):

        class Wrong(Injector[_Params]):
            Params = plugins.NoParams

            async def inject(self) -> Injected:
                return Injected([])


def test_an_injector_reads_its_own_typed_params_and_refuses_another_kinds() -> None:
    class Marker(Injector[_Params]):
        async def inject(self) -> Injected:
            return Injected([self.params.path])

    ctx = drill_context(_scenario())
    request = FaultRequest("m", "test.marker", None, None, _Params(path="x"))
    assert Marker(ctx, request).params.path == "x"
    wrong = FaultRequest("m", "test.marker", None, None, plugins.NoParams())
    with pytest.raises(PluginError, match=r"^Marker takes _Params parameters, got NoParams$"):
        Marker(ctx, wrong)


def test_scenario_hooks_have_defaults_and_aws_kinds_answer_them() -> None:
    owned = Target.model_validate({"process": {"service": "shop"}})
    foreign = Target.model_validate({"process": {"pattern": "nginx"}})
    remote = Target.model_validate({"url": "http://shop.example.com", "upstream": "http://x:1"})
    local = Target.model_validate({"url": "http://127.0.0.1:8080", "upstream": "http://x:1"})
    assert ProcessRestart.real_systems(owned) is None
    assert ProcessKill.real_systems(foreign) == "on a process kunren did not start"
    assert HttpFault.real_systems(remote) == "in front of http://shop.example.com"
    assert HttpFault.real_systems(local) is None
    assert FisExperiment.real_systems(None) == "in AWS"
    assert Ec2Stop.needs_safety and not ProcessKill.needs_safety
    assert FisExperiment.target_kinds == () and Ec2Stop.target_kinds == ("aws.ec2",)


def test_a_plugin_missing_its_dependencies_names_the_extra_to_install() -> None:
    class NeedsNothingHere(HttpProbe):
        requires = ("kunren_no_such_module",)
        extra = "web"

    with pytest.raises(PluginError, match=r"needs kunren_no_such_module: pip install"):
        NeedsNothingHere.ensure_installed("http")
    assert plugins.require(PROBES, "http") is HttpProbe


def test_a_probe_gets_its_params_typed() -> None:
    spec_scenario = Scenario.model_validate(
        {
            "version": 1,
            "id": "p",
            "title": "P",
            "duration": "5m",
            "probes": [{"id": "h", "every": "5s", "http": {"url": "http://127.0.0.1:9/"}}],
        }
    )
    spec = spec_scenario.probes[0]
    params = HttpProbeParams.model_validate(spec.params)
    probe = HttpProbe(drill_context(spec_scenario), spec, params)
    assert probe.params.url == "http://127.0.0.1:9/"


LOADED = """
version: 1
id: once
title: Once
duration: 10m
targets:
  shop: {url: "http://127.0.0.1:18080", upstream: "http://127.0.0.1:18081"}
faults:
  - {id: search-500, at: 1m, kind: http.fault, target: shop, match: {path: /search},
     respond: {status: 500}}
runbooks:
  - {id: mark, title: Mark, kind: testing.marker, path: marker.txt}
probes:
  - {id: health, every: 5s, http: {url: "http://127.0.0.1:18080/health"}}
"""


def test_plugins_get_the_parameters_validated_when_the_scenario_loaded(tmp_path: Path) -> None:
    loaded = load_scenario_text(LOADED, str(tmp_path / "once.yaml"), tmp_path)
    ctx = drill_context(loaded)
    fault = request_for_fault(ctx, loaded.scenario.faults[0])
    runbook = request_for_runbook(ctx, loaded.scenario.runbooks[0])
    assert fault.params is loaded.params.get("faults", "search-500")
    assert isinstance(fault.params, HttpFaultParams) and fault.params.respond is not None
    assert fault.params.respond.status == 500
    assert runbook.params is loaded.params.get("runbooks", "mark")
    probe_params = loaded.params.get("probes", "health")
    assert isinstance(probe_params, HttpProbeParams)


def test_without_plugin_checks_the_parameters_are_built_on_first_use(tmp_path: Path) -> None:
    loaded = load_scenario_text(LOADED, str(tmp_path / "once.yaml"), tmp_path, check_plugins=False)
    assert loaded.params.get("faults", "search-500") is None
    request = request_for_fault(drill_context(loaded), loaded.scenario.faults[0])
    assert isinstance(request.params, HttpFaultParams)


def test_unchecked_parameters_that_do_not_fit_are_one_plugin_error(tmp_path: Path) -> None:
    text = LOADED.replace("respond: {status: 500}", "respond: {status: many}")
    loaded = load_scenario_text(text, str(tmp_path / "once.yaml"), tmp_path, check_plugins=False)
    with pytest.raises(PluginError, match=r"^http\.fault: respond\.status: Input should be"):
        request_for_fault(drill_context(loaded), loaded.scenario.faults[0])
