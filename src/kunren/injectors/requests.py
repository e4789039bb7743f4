"""The requests a scenario makes of injectors: one ``FaultRequest`` per fault or runbook.

Both the conductor and read-only tools (the AWS preflight, ``kunren plan --resolve``, the FIS
export) build requests from a scenario; they live beside ``FaultRequest`` so that nothing below
the conductor has to import it.
"""

from __future__ import annotations

from kunren.injectors.base import INJECTORS, FaultRequest
from kunren.scenarios.loader import plugin_params
from kunren.scenarios.models import Fault, RunbookSpec, Scenario

RUNBOOK_PREFIX = "runbook:"


def _request(
    scenario: Scenario, key: str, spec: Fault | RunbookSpec, duration: float | None = None
) -> FaultRequest:
    return FaultRequest(
        id=key,
        kind=spec.kind,
        target_name=spec.target,
        target=scenario.targets.get(spec.target) if spec.target else None,
        params=plugin_params(INJECTORS, spec.kind, spec.params),
        duration=duration,
    )


def request_for_fault(scenario: Scenario, fault: Fault) -> FaultRequest:
    return _request(scenario, fault.id, fault, fault.for_)


def request_for_runbook(scenario: Scenario, runbook: RunbookSpec) -> FaultRequest:
    return _request(scenario, RUNBOOK_PREFIX + runbook.id, runbook)


def request_for_key(scenario: Scenario, key: str) -> FaultRequest | None:
    if key.startswith(RUNBOOK_PREFIX):
        runbook = scenario.runbook(key.removeprefix(RUNBOOK_PREFIX))
        return request_for_runbook(scenario, runbook) if runbook else None
    fault = scenario.fault(key)
    return request_for_fault(scenario, fault) if fault else None
