"""Checks that need the whole scenario: references, times, plugins, files and safety.

Shape and types are the models' job; these run once a scenario has its shape, and find what
only the whole file can tell: a fault naming a target that does not exist, a time after the
drill ends, a kind that is not installed, a template file that is missing, AWS faults without
a safety section. Each finding is a located ``Problem``. What only a plugin can tell (its
parameters, its targets, whether it needs a safety section) is asked of the plugin class through
its declared hooks (``kunren.scenarios.kinds.FaultKind``), never guessed from its kind's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from kunren import plugins
from kunren.errors import PluginError, Problem
from kunren.scenarios.kinds import FAULT_KINDS, FaultKind
from kunren.scenarios.models import (
    BUILTIN_MILESTONES,
    Fault,
    RunbookSpec,
    Scenario,
    own_keys,
)
from kunren.scenarios.params import PluginParams, Section
from kunren.scenarios.yamlsource import MISSING, KeyPath, SourceMap, child


class CrossCheck:
    """Checks that need the whole scenario: references, times, plugins, files, safety."""

    def __init__(
        self,
        scenario: Scenario,
        data: dict[str, Any],
        source: SourceMap,
        base_dir: Path,
        check_plugins: bool,
        check_files: bool = True,
    ) -> None:
        self.check_files = check_files
        self.s = scenario
        self.data = data
        self.src = source
        self.base = base_dir
        self.check_plugins = check_plugins
        self.milestones = set(scenario.milestone_names)
        self._validated: dict[tuple[Section, str], BaseModel] = {}

    @property
    def params(self) -> PluginParams:
        """The parameters ``run()`` validated, as their plugins' models."""
        return PluginParams(dict(self._validated))

    def problem(self, path: KeyPath, message: str) -> Problem:
        return self.src.problem(path, message)

    def run(self) -> Iterator[Problem]:
        yield from self._unique_ids()
        yield from self._roles()
        yield from self._targets_and_services()
        yield from self._faults()
        yield from self._runbooks()
        yield from self._probes()
        yield from self._stop_conditions()
        yield from self._injects()
        yield from self._load()
        yield from self._objectives()
        yield from self._notifications()
        yield from self._simulate()
        yield from self._safety()

    # ------------------------------------------------------------ helpers

    def _within(self, path: KeyPath, at: float, what: str = "") -> Iterator[Problem]:
        if at > self.s.duration:
            yield self.problem(
                path,
                f"{what or 'time'} {_fmt(at)} is after the drill ends ({_fmt(self.s.duration)})",
            )

    def _roles_exist(self, path: KeyPath, roles: Iterable[str]) -> Iterator[Problem]:
        if not self.s.roles:
            return
        for index, role in enumerate(roles):
            if role not in self.s.roles:
                sub = (*path, index) if _is_list(self.data, path) else path
                yield self.problem(sub, f"unknown role {role!r}{_known(self.s.roles)}")

    def _plugin(
        self,
        entry: tuple[Section, str],
        group: plugins.Group[plugins.PluginT],
        kind: str,
        path: KeyPath,
        params: dict[str, Any],
        params_path: KeyPath,
    ) -> Iterator[Problem]:
        if not self.check_plugins:
            return
        try:
            cls = plugins.load(group, kind)
        except PluginError as exc:
            from kunren.scenarios import errors_map  # only when there is a problem to word

            known = plugins.names(group)
            close = "" if kind in known else errors_map.did_you_mean(kind, known)
            if kind not in known and not close:  # nothing close: say what there is
                close = _known(known)
            yield self.problem(path, f"{exc}{close}")
            return
        missing = cls.missing_requirements()
        if missing:
            extra = f": pip install 'kunren[{cls.extra}]'" if cls.extra else ""
            yield self.problem(path, f"{kind} needs {', '.join(missing)}{extra}")
        try:
            model = cls.Params.model_validate(params)
            self._validated.setdefault(entry, model)  # the first of two same-named channels
        except ValidationError as exc:
            from kunren.scenarios import errors_map

            allowed = _allowed_extra(path)
            yield from errors_map.problems_from(
                exc, params, self.src, prefix=params_path, model=cls.Params, also_allowed=allowed
            )

    def _fault_kind(self, kind: str) -> type[FaultKind] | None:
        """The class of a fault or runbook kind, or None (not checked, or reported already)."""
        if not self.check_plugins:
            return None
        try:
            return plugins.load(FAULT_KINDS, kind)
        except PluginError:
            return None

    def _target_for_kind(self, kind: str, target: str | None, path: KeyPath) -> Iterator[Problem]:
        if target is not None and target not in self.s.targets:
            yield self.problem(
                (*path, "target"), f"unknown target {target!r}{_known(self.s.targets)}"
            )
            return
        cls = self._fault_kind(kind)
        if cls is None:
            return
        accepted = cls.target_kinds
        if target is None:
            if accepted:
                yield self.problem(path, f"{kind} needs a target ({' or '.join(accepted)})")
            return
        spec = self.s.targets[target]
        if accepted and spec.kind not in accepted:
            yield self.problem(
                (*path, "target"),
                f"{kind} acts on {' or '.join(accepted)} targets; {target!r} is {spec.kind}",
            )
            return
        message = cls.check_target(spec)
        if message:
            yield self.problem((*path, "target"), message)

    # ------------------------------------------------------------ sections

    def _unique_ids(self) -> Iterator[Problem]:
        for section, ids in (
            ("faults", [f.id for f in self.s.faults]),
            ("probes", [p.id for p in self.s.probes]),
            ("runbooks", [r.id for r in self.s.runbooks]),
        ):
            seen: dict[str, int] = {}
            for index, item_id in enumerate(ids):
                if item_id in seen:
                    yield self.problem(
                        (section, index, "id"),
                        f"duplicate id {item_id!r} (first used in {section}[{seen[item_id]}])",
                    )
                else:
                    seen[item_id] = index

    def _roles(self) -> Iterator[Problem]:
        for name, role in self.s.roles.items():
            for index, milestone in enumerate(role.milestones or []):
                if milestone not in self.milestones:
                    yield self.problem(
                        ("roles", name, "milestones", index),
                        _unknown_milestone(milestone, self.milestones),
                    )
        for name, spec in self.s.milestones.items():
            yield from self._roles_exist(("milestones", name, "roles"), spec.roles)

    def _targets_and_services(self) -> Iterator[Problem]:
        for name, target in self.s.targets.items():
            if (
                target.process
                and target.process.service
                and target.process.service not in self.s.services
            ):
                yield self.problem(
                    ("targets", name, "process", "service"),
                    f"unknown service {target.process.service!r}{_known(self.s.services)}",
                )
        for name, service in self.s.services.items():
            if service.ready and not service.ready.startswith(("http://", "https://")):
                yield self.problem(("services", name, "ready"), "expected an http:// URL")

    def _faults(self) -> Iterator[Problem]:
        for index, fault in enumerate(self.s.faults):
            path: KeyPath = ("faults", index)
            yield from self._within((*path, "at"), fault.at)
            if fault.for_ is not None:  # > 0: PositiveDuration in the model
                yield from self._within((*path, "for"), fault.at + fault.for_, "the fault's end")
            yield from self._plugin(
                ("faults", fault.id), FAULT_KINDS, fault.kind, (*path, "kind"), fault.params, path
            )
            yield from self._target_for_kind(fault.kind, fault.target, path)

    def _runbooks(self) -> Iterator[Problem]:
        for index, runbook in enumerate(self.s.runbooks):
            path: KeyPath = ("runbooks", index)
            yield from self._plugin(
                ("runbooks", runbook.id),
                FAULT_KINDS,
                runbook.kind,
                (*path, "kind"),
                runbook.params,
                path,
            )
            yield from self._target_for_kind(runbook.kind, runbook.target, path)
            yield from self._roles_exist((*path, "roles"), runbook.roles)

    def _probes(self) -> Iterator[Problem]:
        for index, probe in enumerate(self.s.probes):
            path: KeyPath = ("probes", index)
            yield from self._plugin(
                ("probes", probe.id),
                plugins.PROBES,
                probe.kind,
                (*path, probe.kind),
                probe.params,
                (*path, probe.kind),
            )

    def _stop_conditions(self) -> Iterator[Problem]:
        ids = [p.id for p in self.s.probes]
        for index, stop in enumerate(self.s.stop_conditions):
            if stop.probe not in ids:
                yield self.problem(
                    ("stop_conditions", index, "probe"),
                    f"unknown probe {stop.probe!r}{_known(ids)}",
                )

    def _injects(self) -> Iterator[Problem]:
        for index, inject in enumerate(self.s.injects):
            path: KeyPath = ("injects", index)
            yield from self._within((*path, "at"), inject.at)
            yield from self._roles_exist((*path, "to"), inject.to)
            if inject.for_ is not None:
                yield from self._within((*path, "for"), inject.at + inject.for_, "the inject's end")

    def _load(self) -> Iterator[Problem]:
        load = self.s.load
        if load is None:
            return
        previous = -1.0
        for index, stage in enumerate(load.stages):
            path: KeyPath = ("load", "stages", index, "at")
            yield from self._within(path, stage.at)
            if stage.at <= previous:
                yield self.problem(path, "stages must be in increasing time order")
            previous = stage.at
        if self.check_files and load.locustfile and not (self.base / load.locustfile).is_file():
            yield self.problem(("load", "locustfile"), _not_found(load.locustfile))

    def _objectives(self) -> Iterator[Problem]:
        for name, objective in self.s.objectives.items():
            if name not in self.milestones:
                yield self.problem(("objectives", name), _unknown_milestone(name, self.milestones))
            yield from self._roles_exist(("objectives", name, "by"), objective.by)
            yield from self._by_roles_can_mark(name, objective.by)

    def _by_roles_can_mark(self, name: str, by: list[str]) -> Iterator[Problem]:
        """A ``by`` role that cannot mark the milestone could never meet the objective: the
        page and ``kunren mark`` refuse it that mark, so the objective would be missed in
        every drill for a reason nobody practised."""
        if name not in self.milestones:
            return
        path: KeyPath = ("objectives", name, "by")
        for index, role in enumerate(by):
            if self.s.roles and role not in self.s.roles:
                continue  # reported as an unknown role
            allowed = self.s.milestones_for_role(role)
            if name not in allowed:
                sub = (*path, index) if _is_list(self.data, path) else path
                yield self.problem(
                    sub,
                    f"role {role} cannot mark {name} "
                    f"(its milestones: {', '.join(allowed) or 'none'})",
                )

    def _notifications(self) -> Iterator[Problem]:
        notes = self.s.notifications
        if notes is None:
            return
        if not self.check_files:
            notes = notes.model_copy(update={"templates": {}, "audiences": {}})
        for name, ref in notes.templates.items():
            files = {None: ref} if isinstance(ref, str) else dict(ref)
            for lang, file in files.items():
                path: KeyPath = ("notifications", "templates", name) + ((lang,) if lang else ())
                if not (self.base / file).is_file():
                    yield self.problem(path, _not_found(file))
        for name, audience in notes.audiences.items():
            if not (self.base / audience.file).is_file():
                yield self.problem(
                    ("notifications", "audiences", name, "file"), _not_found(audience.file)
                )
        for index, channel in enumerate(notes.channels):
            path = ("notifications", "channels", index)
            yield from self._plugin(
                ("channels", channel.name),
                plugins.CHANNELS,
                channel.name,
                path,
                channel.params,
                (*path, channel.name),
            )
        if notes.approval is not None:
            yield from self._roles_exist(("notifications", "approval", "by"), notes.approval.by)

    def _simulate(self) -> Iterator[Problem]:
        if self.s.simulate is None:
            return
        for index, person in enumerate(self.s.simulate.people):
            path: KeyPath = ("simulate", "people", index)
            yield from self._roles_exist((*path, "role"), [person.role])
            for name, (_, hi) in person.milestones.items():
                if name not in self.milestones:
                    yield self.problem((*path, name), _unknown_milestone(name, self.milestones))
                else:
                    yield from self._within((*path, name), hi)

    def _safety(self) -> Iterator[Problem]:
        if self.s.safety is None:
            for path, kind in self._kinds_needing_safety():
                yield self.problem(
                    path,
                    f"{kind} needs a safety section (require_tag, max_targets, allowed_regions…)",
                )
            return
        allowed = self.s.safety.allowed_regions
        for name, target in self.s.targets.items():
            if not target.is_aws:
                continue
            spec = target.spec(target.kind)
            if allowed and spec.region and spec.region not in allowed:
                yield self.problem(
                    ("targets", name, target.kind, "region"),
                    f"region {spec.region!r} is not in safety.allowed_regions"
                    f" ({', '.join(allowed)})",
                )

    def _kinds_needing_safety(self) -> Iterator[tuple[KeyPath, str]]:
        entries: list[tuple[KeyPath, str]] = [
            (("faults", i, "kind"), f.kind) for i, f in enumerate(self.s.faults)
        ]
        entries += [(("runbooks", i, "kind"), r.kind) for i, r in enumerate(self.s.runbooks)]
        for path, kind in entries:
            cls = self._fault_kind(kind)
            if cls is not None and cls.needs_safety:
                yield path, kind


def _not_found(file: str) -> str:
    """Say which folder a relative path was looked for in: the scenario file's, not the
    current directory (the usual surprise)."""
    return f"file not found: {file} (relative to the scenario file's folder)"


def _allowed_extra(path: KeyPath) -> set[str]:
    section = path[0] if path else ""
    models: dict[str, type[Fault | RunbookSpec]] = {"faults": Fault, "runbooks": RunbookSpec}
    model = models.get(str(section))
    return set(own_keys(model)) if model is not None else set()


def _is_list(data: object, path: KeyPath) -> bool:
    node = data
    for part in path:
        node = child(node, part)
        if node is MISSING:
            return False
    return isinstance(node, list)


def _known(names: Iterable[str]) -> str:
    names = list(dict.fromkeys(names))
    return f" (known: {', '.join(names)})" if names else " (none are defined)"


def _unknown_milestone(name: str, known: set[str]) -> str:
    from kunren.scenarios import errors_map

    builtin = ", ".join(BUILTIN_MILESTONES)
    return (
        f"unknown milestone {name!r}{errors_map.did_you_mean(name, known)}; built-in: {builtin}; "
        "declare others under milestones:"
    )


def _fmt(seconds: float) -> str:
    from kunren.durations import format_duration

    return format_duration(seconds)
