"""Each plugin entry's parameters as its plugin's own model, built once when the scenario loads.

``load_scenario`` checks every fault's, runbook's, probe's and channel's keys against the model
its plugin declares (``Params``) and reports every problem with its file, line and key. The
models it built on the way are kept here, in the ``LoadedScenario`` and then the drill's
context, so the conductor hands each plugin the very object that was validated instead of
validating the same keys again. A scenario loaded without plugin checks (a drill folder's
snapshot, an imported timeline) has none: its requests build them on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, JsonValue, ValidationError

from kunren import plugins
from kunren.errors import PluginError

Section = Literal["faults", "runbooks", "probes", "channels"]


@dataclass(frozen=True)
class PluginParams:
    """Validated parameters by scenario entry: (section, the entry's id or channel name)."""

    by_entry: Mapping[tuple[Section, str], BaseModel] = field(default_factory=dict)

    def get(self, section: Section, key: str) -> BaseModel | None:
        return self.by_entry.get((section, key))

    def of(
        self,
        section: Section,
        key: str,
        group: plugins.Group[plugins.PluginT],
        kind: str,
        raw: Mapping[str, JsonValue],
    ) -> BaseModel:
        """The entry's validated parameters; built from ``raw`` only when none were kept."""
        found = self.get(section, key)
        return found if found is not None else plugin_params(group, kind, raw)


def plugin_params(
    group: plugins.Group[plugins.PluginT], kind: str, params: Mapping[str, JsonValue]
) -> BaseModel:
    """The parameters of a scenario entry, built as its plugin's model.

    For an entry of a scenario loaded with plugin checks the loader kept the model already
    (``PluginParams``); this is for the others (a snapshot, a bare ``Scenario``), where a
    problem the loader would have located becomes one ``PluginError`` naming the kind and key.
    """
    model = plugins.load(group, kind).Params
    try:
        return model.model_validate(dict(params))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise PluginError(f"{kind}: {key + ': ' if key else ''}{first['msg']}") from None
