"""Loading a scenario: YAML with line numbers, typed models, plugin parameters, cross-references.

Nothing may run on a scenario that does not validate, so this module collects every problem it
can find (shape, types, unknown keys, dangling references, times outside the drill, plugins
that are not installed) and raises them together as one ``ScenarioError``; the CLI prints them
one a line as ``FILE:LINE: KEY.PATH: message``.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from kunren.errors import Problem, ScenarioError
from kunren.scenarios.checks import CrossCheck
from kunren.scenarios.models import Scenario
from kunren.scenarios.params import PluginParams, plugin_params
from kunren.scenarios.yamlsource import SourceMap, load_yaml

SKIP_DIRS = {"audiences", "templates", "load", "locustfiles", "__pycache__"}


@dataclass(frozen=True)
class LoadedScenario:
    scenario: Scenario
    path: Path
    text: str
    source: SourceMap
    base_dir: Path | None = None  # where relative paths resolve (default: the file's folder)
    params: PluginParams = field(default_factory=PluginParams)  # validated at load, if checked

    @property
    def dir(self) -> Path:
        return self.base_dir if self.base_dir is not None else self.path.parent


def load_scenario(
    path: Path | str, *, check_plugins: bool = True, check_files: bool = True
) -> LoadedScenario:
    """Read and fully validate one scenario file; raises ScenarioError with every problem."""
    file = Path(path)
    text = read_scenario_file(file)
    return load_scenario_text(
        text, str(path), file.parent, check_plugins=check_plugins, check_files=check_files
    )


MAX_SCENARIO_BYTES = 4 * 1024 * 1024


def read_scenario_file(file: Path) -> str:
    """The text of a scenario file, refusing what is not a regular file before reading it:
    a FIFO named ``x.yaml`` would block ``validate`` forever, ``/dev/zero`` never ends."""

    def refuse(message: str) -> ScenarioError:
        return ScenarioError([Problem(str(file), None, "", message)])

    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat on what was opened
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise refuse("no such file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise refuse("a symbolic link loop: the link never reaches a file") from None
        if exc.errno == errno.EISDIR:
            raise refuse("a folder, not a scenario file") from None
        raise refuse(f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise refuse(f"not a regular file ({_file_kind(mode)}); give a YAML file")
        data = handle.read(MAX_SCENARIO_BYTES + 1)
    if len(data) > MAX_SCENARIO_BYTES:
        raise refuse(f"larger than {MAX_SCENARIO_BYTES // (1024 * 1024)} MB: not a scenario")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refuse(f"not UTF-8 text (byte {exc.start})") from None


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
    )
    return next((name for test, name in kinds if test(mode)), "not a plain file")


def load_scenario_text(
    text: str,
    name: str,
    base_dir: Path,
    *,
    check_plugins: bool = True,
    check_files: bool = True,
) -> LoadedScenario:
    data, source, problems = load_yaml(text, name)
    if data is None and not problems:
        problems = [Problem(name, 1, "", "the file is empty")]
    if data is None:
        raise ScenarioError(problems)
    if not isinstance(data, dict):
        got = "a list" if isinstance(data, list) else repr(data)
        line = source.line(())
        raise ScenarioError(
            [
                Problem(
                    name, line, "", f"expected a mapping of keys (version, id, title…), got {got}"
                )
            ]
        )
    # duplicate keys and the like do not stop parsing: report them with everything else
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        # wording the problems (difflib, the partial re-parse) is imported only when there are
        from kunren.scenarios import errors_map
        from kunren.scenarios.partial import partial_scenario

        problems += errors_map.problems_from(exc, data, source, model=Scenario)
        # the cross-reference checks still run on whatever parsed: every error at once
        partial = partial_scenario(data, exc, source, problems)
        if partial is not None:
            part, part_data, part_source, worth = partial
            checker = CrossCheck(part, part_data, part_source, base_dir, check_plugins, check_files)
            problems += [p for p in checker.run() if worth(p) and p not in problems]
        raise ScenarioError(problems) from None
    checker = CrossCheck(scenario, data, source, base_dir, check_plugins, check_files)
    problems += checker.run()
    if problems:
        raise ScenarioError(problems)
    return LoadedScenario(scenario, Path(name), text, source, base_dir, checker.params)


def find_scenarios(paths: Iterable[Path]) -> list[Path]:
    """Scenario files among ``paths`` (folders are searched, skipping templates/audiences)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path).parts
                if any(p in SKIP_DIRS or p.startswith(".") for p in rel[:-1]):
                    continue
                if child.is_file() and child.suffix in (".yaml", ".yml"):
                    found.append(child)
        else:
            found.append(path)
    return found


__all__ = [
    "LoadedScenario",
    "find_scenarios",
    "load_scenario",
    "load_scenario_text",
    "plugin_params",
]
