"""Fuzzing the scenario loader: any file is a scenario or a list of located problems, never more.

Three sources of input: YAML-ish token soup and free text (the parser's edge), well-formed YAML
of random shapes, and a valid scenario with random damage done to it (the models' and
cross-checks' edge). Whatever comes in, ``load_scenario`` returns a ``LoadedScenario`` or raises
``ScenarioError`` (exit code 2) whose every line reads ``FILE:LINE: …`` (``FILE: …`` when no line
applies). A few samples go through ``kunren validate`` and ``kunren run`` in a subprocess: exit 2,
those lines on stderr, no traceback, and no drill folder created.

Inputs that fuzzing once found crashing the loader (recursive aliases, deep nesting, control
characters, huge integers, line breaks in keys and ids, alias bombs) are kept in
``FOUND_BY_FUZZING`` as regression cases.
"""

from __future__ import annotations

import copy
import random
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kunren.errors import ScenarioError
from kunren.scenarios.loader import LoadedScenario, load_scenario

pytestmark = pytest.mark.integration  # hundreds of generated inputs: slow for make test-fast

KUNREN = [sys.executable, "-m", "kunren"]

VALID = """\
version: 1
id: fuzz-base
title: A scenario with every section
description: used as the starting point for damage
duration: 60m
tags: [fuzz]
lang: en
roles:
  sre: {min: 1}
  support: {min: 1, tools: [{name: Status page, url: https://status.example.com}]}
milestones:
  status_page_updated: {label: Status page updated, roles: [support]}
targets:
  shop: {url: http://127.0.0.1:18080, upstream: http://127.0.0.1:18081}
  shop-proc: {process: {service: shop}}
services:
  shop: {command: [python, -m, kunren.demo.shop, --port, "18081"], ready: http://127.0.0.1:18081/health}
load:
  urls: [/, "/search?q=tea"]
  host: http://127.0.0.1:18080
  stages:
    - {at: 0m, users: 5, spawn_rate: 5}
    - {at: 15m, users: 30, spawn_rate: 10}
faults:
  - {id: search-500, at: 5m, kind: http.fault, target: shop, match: {path: /search},
     respond: {status: 500}, for: 10m}
  - {id: freeze, at: 20m, kind: process.stop, target: shop-proc, for: 5m}
  - {id: marker, at: 30m, kind: testing.marker, path: fuzz.marker}
injects:
  - {at: 8m, kind: inquiry, text: "A customer writes", to: [support]}
  - {at: 12m, kind: unavailable, who: alice, for: 20m}
probes:
  - {id: health, every: 5s,
     http: {url: http://127.0.0.1:18080/health, expect_status: 200, timeout: 2s}}
  - {id: flag, every: 10s, testing.file: {path: fuzz.marker}}
stop_conditions:
  - {probe: health, failing_for: 30m}
objectives:
  detected: {within: 5m}
  customer_notified: {within: 20m, by: support}
runbooks:
  - {id: restart-shop, title: Restart the shop, kind: process.restart, target: shop-proc,
     roles: [sre]}
notifications:
  templates:
    investigating: {en: templates/investigating.en.md.j2}
  audiences:
    customers: {file: audiences/customers.csv}
  channels: [capture]
simulate:
  seed: 7
  people:
    - {role: sre, person: sim-sre, detected: 6m-9m, resolved: 24m-30m}
"""

VALID_DATA: dict[str, Any] = yaml.safe_load(VALID)
KEYS = sorted({*VALID_DATA, "at", "kind", "target", "for", "within", "by", "every"})
TOKENS = [
    *(f"{k}:" for k in KEYS),
    "- ",
    "  ",
    "    ",
    "\t",
    ": ",
    "-",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a ",
    "*a",
    "<<: ",
    "!!str ",
    "!!binary ",
    "!!python/object:os.system ",
    "? ",
    "|",
    ">",
    "#",
    "'",
    '"',
    "---",
    "...",
    "%YAML 1.1",
    "~",
    "null",
    "yes",
    ".inf",
    ".nan",
    "2024-01-01",
    "5m",
    "90s",
    "PT5M",
    "1h30m",
    "-5m",
    "0",
    "1e400",
    "0x1F",
    "testing.marker",
    "http.fault",
    "aws.ec2.terminate",
    "シナリオ",
    "🚒",
]
SAFE_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | SAFE_TEXT
    | st.sampled_from(["5m", "90s", "PT5M", "0", "1h", "-1m", "61m", "abc", "KILL", "sre"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | SAFE_TEXT, inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "templates").mkdir()
    (folder / "templates" / "investigating.en.md.j2").write_text("[DRILL] {{ service }}\n")
    (folder / "audiences").mkdir()
    (folder / "audiences" / "customers.csv").write_text("email\na@example.com\n")
    return folder


def check(path: Path, data: bytes) -> LoadedScenario | None:
    """Load ``data`` from ``path``: a scenario, or None after checking every problem line."""
    path.write_bytes(data)
    try:
        loaded = load_scenario(path)
    except ScenarioError as exc:
        assert exc.exit_code == 2
        assert exc.problems, "a ScenarioError without problems"
        located = re.compile(rf"^{re.escape(str(path))}(:[1-9]\d*)?: ")
        for line in str(exc).split("\n"):
            assert located.match(line), f"not FILE:LINE: … : {line!r}"
        return None
    assert isinstance(loaded, LoadedScenario)
    return loaded


def test_the_base_scenario_is_valid(workdir: Path) -> None:
    assert check(workdir / "base.yaml", VALID.encode()) is not None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS) | SAFE_TEXT, max_size=40), st.randoms())
def test_token_soup_is_a_scenario_or_located_problems(
    workdir: Path, tokens: list[str], rng: random.Random
) -> None:
    text = ""
    for token in tokens:
        text += token + rng.choice(["", " ", "\n", "\n  ", "\n- "])
    check(workdir / "soup.yaml", text.encode("utf-8"))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_are_a_scenario_or_located_problems(workdir: Path, data: bytes) -> None:
    check(workdir / "bytes.yaml", data)


@settings(max_examples=150, deadline=None)
@given(VALUES)
def test_any_yaml_document_is_a_scenario_or_located_problems(workdir: Path, value: Any) -> None:
    check(workdir / "shape.yaml", yaml.safe_dump(value, allow_unicode=True).encode())


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _damage(data: dict[str, Any], drawn: st.DataObject) -> dict[str, Any]:
    draw = drawn.draw
    damaged = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(damaged) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = damaged
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        action = draw(st.sampled_from(["replace", "delete", "add", "none", "wrap", "duplicate"]))
        if action == "replace":
            parent[last] = draw(VALUES)
        elif action == "delete":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS) | SAFE_TEXT)] = draw(VALUES)
        elif action == "none":
            parent[last] = None
        elif action == "wrap":
            parent[last] = [parent[last]]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
    return damaged


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_a_damaged_scenario_is_a_scenario_or_located_problems(
    workdir: Path, data: st.DataObject
) -> None:
    damaged = _damage(VALID_DATA, data)
    text = yaml.safe_dump(damaged, allow_unicode=True, sort_keys=False)
    check(workdir / "damaged.yaml", text.encode())


# ---------------------------------------------------------------------- the command line


def _cli_check(folder: Path, text: str) -> None:
    scenario = folder / "cli.yaml"
    scenario.write_text(text, encoding="utf-8")
    for args in (
        ["validate", str(scenario)],
        ["run", str(scenario), "--clock", "virtual", "--drills", str(folder / "drills")],
    ):
        done = subprocess.run(
            [*KUNREN, *args], cwd=folder, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stdout + done.stderr
        lines = done.stderr.strip().split("\n")
        located = re.compile(rf"^{re.escape(str(scenario))}(:[1-9]\d*)?: ")
        assert all(located.match(line) for line in lines), done.stderr
    assert not (folder / "drills").exists() or not any((folder / "drills").iterdir())


@pytest.mark.integration
@pytest.mark.parametrize(
    "text",
    [
        "version: 1\nid: x\n\ttitle: tab\n",
        "[unclosed\n",
        "",
        "- a list\n- not a mapping\n",
        VALID.replace("duration: 60m", "duration: sixty minutes").replace("at: 5m", "at: 5"),
        VALID.replace("target: shop,", "target: shpo,").replace("process.stop", "process.stpo"),
    ],
    ids=["tab", "unclosed", "empty", "list", "bad-times", "dangling"],
)
def test_the_cli_rejects_with_exit_2_and_located_lines_only(tmp_path: Path, text: str) -> None:
    _cli_check(tmp_path, text)


@pytest.mark.integration
@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_the_cli_rejects_damaged_scenarios_the_same_way(
    tmp_path: Path, data: st.DataObject
) -> None:
    damaged = _damage(VALID_DATA, data)
    text = yaml.safe_dump(damaged, allow_unicode=True, sort_keys=False)
    if check(tmp_path / "probe.yaml", text.encode()) is not None:
        return  # the damage happened to leave a valid scenario
    folder = tmp_path / f"cli-{time.monotonic_ns()}"
    folder.mkdir()
    _cli_check(folder, text)


# ---------------------------------------------------------------------- known bugs

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]\n"
    for prev, name in zip("abcde", "bcdef", strict=True)
)
YAMLSOURCE = "scenarios/yamlsource.py"
FOUND_BY_FUZZING = {  # id: (text, what it used to do)
    "recursive-alias": ("a: &x [*x]\n", f"RecursionError in {YAMLSOURCE} _build"),
    "deep-nesting": (
        "a: " + "[" * 2000 + "]" * 2000 + "\n",
        "RecursionError in PyYAML's composer, not caught by load_yaml",
    ),
    "nul-character": (
        "version: 1\nid: a\x00b\n",
        f"yaml.ReaderError raised by yaml.SafeLoader(text), outside the try in {YAMLSOURCE}",
    ),
    "huge-integer": (
        "version: 1\nid: x\ntitle: t\nduration: " + "9" * 5000 + "\n",
        "ValueError (int max str digits) from PyYAML's int constructor, not caught",
    ),
    "line-break-in-id": (
        'version: 1\nid: "a\\nb"\ntitle: t\nduration: 10m\n',
        "the id error quotes the raw value: a second line without FILE:LINE:",
    ),
    "line-break-in-key": (
        'version: 1\nid: x\ntitle: t\nduration: 10m\n"ro\\nles": 1\n',
        "the key path prints the raw key: a second line without FILE:LINE:",
    ),
    "alias-expansion": (
        LAUGHS,
        "60 lines expand to a million values; _build walks every alias again (seconds)",
    ),
}


@pytest.mark.parametrize(
    "text", [pytest.param(text, id=name) for name, (text, _) in FOUND_BY_FUZZING.items()]
)
def test_inputs_that_once_crashed_the_loader_are_located_problems(workdir: Path, text: str) -> None:
    assert check(workdir / "known.yaml", text.encode("utf-8")) is None
