"""The plugin registry: injectors, probes, channels and scorers, found through entry points.

Built-ins register exactly like third-party packages do (``[project.entry-points]`` in
pyproject.toml), and the entry-point name is the YAML ``kind``. Only the kinds a scenario names
are loaded, and a plugin's heavy dependencies are imported inside its methods, so
``kunren --help`` stays fast.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from kunren.errors import PluginError

INJECTORS = "kunren.injectors"
PROBES = "kunren.probes"
CHANNELS = "kunren.channels"
SCORERS = "kunren.scorers"
GROUPS: tuple[str, ...] = (INJECTORS, PROBES, CHANNELS, SCORERS)

_NOUN = {INJECTORS: "fault kind", PROBES: "probe kind", CHANNELS: "channel", SCORERS: "scorer"}


class NoParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Plugin:
    """What every plugin class declares about itself."""

    Params: ClassVar[type[BaseModel]] = NoParams
    extra: ClassVar[str | None] = None  # the kunren extra that brings its dependencies
    requires: ClassVar[tuple[str, ...]] = ()  # importable modules it needs
    summary: ClassVar[str] = ""
    available: ClassVar[bool] = True  # False: registered and validated, not built yet

    @classmethod
    def missing_requirements(cls) -> list[str]:
        return [name for name in cls.requires if importlib.util.find_spec(name) is None]

    @classmethod
    def ensure_installed(cls, kind: str) -> None:
        missing = cls.missing_requirements()
        if missing:
            hint = f": pip install 'kunren[{cls.extra}]'" if cls.extra else ""
            raise PluginError(f"{kind} needs {', '.join(missing)}{hint}")


@dataclass(frozen=True)
class PluginInfo:
    group: str
    name: str
    value: str
    summary: str
    installed: bool
    available: bool
    extra: str | None
    error: str = ""  # why the plugin failed to load, if it did


@cache
def _entry_points(group: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=group)}


def names(group: str) -> list[str]:
    return sorted(_entry_points(group))


def load(group: str, name: str) -> Any:
    """The plugin class registered as ``name`` in ``group``."""
    points = _entry_points(group)
    if name not in points:
        raise PluginError(f"unknown {_NOUN.get(group, group)} {name!r}")
    try:
        return points[name].load()
    except (ImportError, AttributeError) as exc:  # AttributeError: the class is not there
        raise PluginError(f"{_NOUN.get(group, group)} {name!r} failed to load: {exc}") from exc
    except Exception as exc:  # its module raised on import: foreign code, translated here
        raise PluginError(
            f"{_NOUN.get(group, group)} {name!r} failed to load: {type(exc).__name__}: {exc}"
        ) from exc


def describe(group: str) -> list[PluginInfo]:
    infos = []
    for name in names(group):
        point = _entry_points(group)[name]
        try:
            cls = load(group, name)
        except PluginError as exc:
            infos.append(
                PluginInfo(group, name, point.value, str(exc), False, False, None, error=str(exc))
            )
            continue
        summary = getattr(cls, "summary", "") or (cls.__doc__ or "").strip().split("\n")[0]
        missing = cls.missing_requirements() if hasattr(cls, "missing_requirements") else []
        infos.append(
            PluginInfo(
                group=group,
                name=name,
                value=point.value,
                summary=summary,
                installed=not missing,
                available=bool(getattr(cls, "available", True)),
                extra=getattr(cls, "extra", None),
            )
        )
    return infos
