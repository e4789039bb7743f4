"""Cross-reference checks on whatever parsed, so every error of a file is reported at once.

A file with a type error in ``faults[1].at`` and a dangling ``target`` in ``faults[2]`` used to
report only the type error: the cross-reference checks need a typed ``Scenario``, and there was
none. Here the entries the model refused are set aside (a list item, a named entry, a whole
section), the rest is validated again, and the checks run on that. Their key paths are mapped
back to the file as written (``faults[2]`` stays ``faults[2]`` although ``faults[1]`` was set
aside), and a problem that only exists because an entry was set aside (``unknown target
'web'`` when ``targets.web`` itself was wrong) is dropped: it is the same error, said twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from kunren.errors import Problem
from kunren.scenarios.models import MAX_DURATION, Scenario
from kunren.scenarios.yamlsource import KeyPath, SourceMap

# Required scalars a broken value is replaced in: a placeholder no check can complain about.
_PLACEHOLDERS: dict[str, object] = {
    "version": 1,
    "id": "scenario",
    "title": "scenario",
    "duration": f"{int(MAX_DURATION)}s",  # no "after the drill ends" from a broken duration
}
# Sections of named entries: one broken entry is set aside, not the section.
_NAMED = {"targets", "services", "roles", "objectives", "milestones"}
_ROUNDS = 8
_HEAD = re.compile(r"^([A-Za-z_]\w*)(?:\[(\d+)\]|\.([^.\[]+))?")


@dataclass
class _Pruned:
    data: dict[str, Any]
    removed_items: dict[str, set[int]] = field(default_factory=dict)  # list section -> indices
    removed_names: set[str] = field(default_factory=set)
    removed_sections: set[str] = field(default_factory=set)

    def set_aside(self, loc: tuple[int | str, ...]) -> bool:
        """Set aside what the error at ``loc`` is in; False when nothing more can be."""
        if not loc:
            return False
        key = str(loc[0])
        value = self.data.get(key)
        if key in _PLACEHOLDERS:
            if self.data.get(key) == _PLACEHOLDERS[key]:
                return False
            self.data[key] = _PLACEHOLDERS[key]
            return True
        if isinstance(value, list) and len(loc) > 1 and isinstance(loc[1], int):
            self.removed_items.setdefault(key, set()).add(loc[1])
            return True
        if key in _NAMED and isinstance(value, dict) and len(loc) > 1 and loc[1] in value:
            self.removed_names.add(str(loc[1]))
            self.data[key] = {k: v for k, v in value.items() if k != loc[1]}
            return True
        if key in self.data:
            del self.data[key]
            self.removed_sections.add(key)
            return True
        return False

    def candidate(self) -> dict[str, Any]:
        data = dict(self.data)
        for key, indices in self.removed_items.items():
            items = data.get(key)
            if isinstance(items, list):
                data[key] = [item for i, item in enumerate(items) if i not in indices]
        return data

    def original(self, path: KeyPath) -> KeyPath:
        """A key path in the checked data as a key path in the file."""
        if len(path) > 1 and isinstance(path[1], int) and str(path[0]) in self.removed_items:
            removed = self.removed_items[str(path[0])]
            kept = [i for i in range(path[1] + len(removed) + 1) if i not in removed]
            return (path[0], kept[path[1]], *path[2:])
        return path

    def caused_by_set_aside(self, problem: Problem) -> bool:
        head = problem.path.split(".", 1)[0].split("[", 1)[0]
        if head in self.removed_sections:
            return True
        return any(f"'{name}'" in problem.message for name in self.removed_names)


@dataclass
class _MappedSource(SourceMap):
    """The file's source map, asked with key paths of the pruned data."""

    to_file: Callable[[KeyPath], KeyPath] = field(default=lambda path: path)
    original: SourceMap | None = None

    def line(self, path: KeyPath) -> int | None:
        assert self.original is not None
        return self.original.line(self.to_file(path))

    def problem(self, path: KeyPath, message: str) -> Problem:
        assert self.original is not None
        return self.original.problem(self.to_file(path), message)


def _head(path: str) -> KeyPath:
    """The first two parts of a printed key path (``faults[1].at`` -> ``("faults", 1)``)."""
    match = _HEAD.match(path)
    if match is None:
        return ()
    key, index, name = match.groups()
    if index is not None:
        return (key, int(index))
    return (key, name) if name is not None else (key,)


def partial_scenario(
    data: dict[str, Any], error: ValidationError, source: SourceMap, reported: list[Problem]
) -> tuple[Scenario, dict[str, Any], SourceMap, Callable[[Problem], bool]] | None:
    """The scenario without what ``error`` refused (and what ``reported`` already names),
    the data it came from, a source map that reports in the file's key paths, and a filter
    for the problems worth reporting; None when nothing valid is left to check."""
    pruned = _Pruned(dict(data))
    locs: list[KeyPath] = [tuple(e["loc"]) for e in error.errors()]
    locs += [head for problem in reported if (head := _head(problem.path))]
    for _ in range(_ROUNDS):
        if not any([pruned.set_aside(loc) for loc in locs]):
            return None
        candidate = pruned.candidate()
        try:
            scenario = Scenario.model_validate(candidate)
        except ValidationError as again:
            # these paths are in the pruned data: map them back before setting aside
            locs = [pruned.original(tuple(e["loc"])) for e in again.errors()]
            continue
        mapped = _MappedSource(source.file, {}, pruned.original, source)
        return scenario, candidate, mapped, lambda p: not pruned.caused_by_set_aside(p)
    return None
