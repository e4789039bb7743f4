"""Finding scorer plugins: the workspace's ``scorers/`` folder and installed entry points.

A team drops a ``*.py`` file with a ``Scorer`` subclass into ``scorers/`` and passes
``--plugins-dir scorers/``; packages register in the ``kunren.scorers`` entry-point group.
Any failure to load is a ``PluginError`` naming the file or entry point, before scoring starts.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType

from kunren import plugins as registry
from kunren.errors import PluginError
from kunren.scorers.base import SCORERS, Scorer

BUILTIN = "milestones"  # always run by score(); its results are the Scorecard itself


def load_scorers(plugins_dir: Path | None = None, installed: bool = True) -> list[type[Scorer]]:
    """Installed scorers (entry points), then those in ``plugins_dir``, in file-name order."""
    found: list[type[Scorer]] = []
    if installed:
        found += installed_scorers()
    if plugins_dir is not None:
        found += folder_scorers(plugins_dir)
    return found


def installed_scorers() -> list[type[Scorer]]:
    found = []
    for name in registry.names(SCORERS):
        if name == BUILTIN:
            continue
        found.append(registry.require(SCORERS, name))
    return found


def folder_scorers(folder: Path) -> list[type[Scorer]]:
    if not folder.is_dir():
        raise PluginError(f"{folder}: no such plugins folder")
    found: list[type[Scorer]] = []
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue  # helpers shared by the plugins, not plugins themselves
        module = _import_file(path)
        classes = [
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj)
            and issubclass(obj, Scorer)
            and obj.__module__ == module.__name__
            and not inspect.isabstract(obj)
        ]
        if not classes:
            raise PluginError(
                f"{path}: defines no Scorer subclass (from kunren.scorers import Scorer)"
            )
        found += classes
    return found


def _import_file(path: Path) -> ModuleType:
    digest = hashlib.sha1(str(path.resolve()).encode(), usedforsecurity=False).hexdigest()[:10]
    name = f"kunren_local_scorers.{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic and dataclasses look their module up here
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # foreign code: any failure is a plugin error naming the file
        sys.modules.pop(name, None)
        raise PluginError(f"{path}: cannot load scorer: {type(exc).__name__}: {exc}") from exc
    return module
