"""kunren (訓練): failure drills that inject faults and time the people on one clock.

The public surface is re-exported here and resolved lazily (PEP 562), so ``import kunren`` and
``kunren --help`` stay fast: a name's module is imported the first time the name is used.
``tests/test_public_api.py`` keeps ``__all__`` sorted and complete.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Clock": "kunren.runtime.clock",
    "Conductor": "kunren.drills.conductor",
    "ConductorOptions": "kunren.drills.conductor",
    "DrillContext": "kunren.runtime.context",
    "EventLog": "kunren.record.eventlog",
    "GuardrailError": "kunren.errors",
    "Injector": "kunren.injectors.base",
    "InputError": "kunren.errors",
    "KunrenError": "kunren.errors",
    "LoadedScenario": "kunren.scenarios.loader",
    "NoticeService": "kunren.notify",
    "NotAvailableError": "kunren.errors",
    "ObjectivesMissed": "kunren.errors",
    "PluginError": "kunren.errors",
    "Probe": "kunren.probes.base",
    "RealClock": "kunren.runtime.clock",
    "Recorder": "kunren.record.recorder",
    "RevertError": "kunren.errors",
    "ScaledClock": "kunren.runtime.clock",
    "Scenario": "kunren.scenarios.models",
    "ScenarioError": "kunren.errors",
    "Scorecard": "kunren.scorers",
    "Scorer": "kunren.scorers",
    "UsageError": "kunren.errors",
    "VirtualClock": "kunren.runtime.clock",
    "import_timeline": "kunren.record.importer",
    "load_scenario": "kunren.scenarios.loader",
    "parse_duration": "kunren.durations",
    "score": "kunren.scorers",
    "write_report": "kunren.reports",
}

__all__ = [
    "Clock",
    "Conductor",
    "ConductorOptions",
    "DrillContext",
    "EventLog",
    "GuardrailError",
    "Injector",
    "InputError",
    "KunrenError",
    "LoadedScenario",
    "NotAvailableError",
    "NoticeService",
    "ObjectivesMissed",
    "PluginError",
    "Probe",
    "RealClock",
    "Recorder",
    "RevertError",
    "ScaledClock",
    "Scenario",
    "ScenarioError",
    "Scorecard",
    "Scorer",
    "UsageError",
    "VirtualClock",
    "__version__",
    "import_timeline",
    "load_scenario",
    "parse_duration",
    "score",
    "write_report",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kunren' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
