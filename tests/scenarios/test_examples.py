"""The meta-test: every scenario in the repository's ``scenarios/`` validates, and ships.

``kunren init`` copies the examples from inside the package, so the packaged copy must be the
repository's ``scenarios/`` exactly; the notice templates the examples name must render with
the variables the examples give; and the JSON Schema must accept what the loader accepts.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
import yaml

from kunren.notify.templates import TemplateSet
from kunren.notify.variables import gather
from kunren.scenarios.loader import find_scenarios, load_scenario
from kunren.scenarios.schema import scenario_schema
from kunren.scenarios.workspace import example_files

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"
SCENARIO_FILES = find_scenarios([SCENARIOS])


def test_the_three_examples_are_there() -> None:
    names = {path.name for path in SCENARIO_FILES}
    assert {"demo-shop.yaml", "aws-web-outage.yaml", "tabletop-notify.yaml"} <= names


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_every_scenario_in_the_workspace_validates(path: Path) -> None:
    loaded = load_scenario(path)
    assert loaded.scenario.id == path.stem


def test_the_packaged_examples_are_the_repository_scenarios_exactly() -> None:
    repo = {
        str(path.relative_to(SCENARIOS)): path.read_bytes()
        for path in sorted(SCENARIOS.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
    packaged = example_files()
    fix = "copy scenarios/ into src/kunren/scenarios/examples/ (rm -r the old copy first)"
    assert sorted(packaged) == sorted(repo), fix
    different = [name for name in repo if packaged[name] != repo[name]]
    assert different == [], fix


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_every_notice_template_an_example_names_renders_with_its_variables(path: Path) -> None:
    scenario = load_scenario(path).scenario
    if scenario.notifications is None:
        pytest.skip("no notifications in this scenario")
    templates = TemplateSet(scenario.notifications, resolve=lambda ref: path.parent / ref)
    now = datetime(2026, 1, 15, 19, 0)
    values = gather(scenario, [], now, given={"start_time": "2026-01-15 18:55"})
    rendered = 0
    for info in templates.info():
        for lang in info.languages:
            notice = templates.render(info.name, lang, values)
            assert notice is not None
            rendered += 1
    assert rendered >= 2


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_the_json_schema_accepts_every_example(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(scenario_schema()).validate(data)


def _schema_errors(data: object) -> list[str]:
    validator = jsonschema.Draft202012Validator(scenario_schema())
    return sorted(error.message for error in validator.iter_errors(data))


BASE = {"version": 1, "id": "s", "title": "T", "duration": "30m"}


def test_the_schema_checks_a_fault_kinds_own_keys() -> None:
    good = {
        "id": "a",
        "at": "5m",
        "kind": "http.fault",
        "target": "shop",
        "respond": {"status": 500},
    }
    assert _schema_errors({**BASE, "faults": [good]}) == []
    misspelt = {**good, "respnd": {"status": 500}}
    assert _schema_errors({**BASE, "faults": [misspelt]}) == [
        "Additional properties are not allowed ('respnd' was unexpected)"
    ]
    wrong_kind_key = {"id": "b", "at": "5m", "kind": "process.kill", "signal": "KILL"}
    assert _schema_errors({**BASE, "faults": [wrong_kind_key]}) == []
    assert _schema_errors({**BASE, "faults": [{**wrong_kind_key, "match": {}}]}) == [
        "Additional properties are not allowed ('match' was unexpected)"
    ]


def test_the_schema_rejects_unknown_kinds_and_bad_durations() -> None:
    fault = {"id": "a", "at": "five", "kind": "no.such.kind"}
    errors = _schema_errors({**BASE, "faults": [fault]})
    assert any("'no.such.kind' is not one of" in error for error in errors)
    assert any("'five' does not match" in error for error in errors)


def test_the_schema_wants_exactly_one_kind_key_per_probe() -> None:
    http = {"url": "http://127.0.0.1:1/"}
    assert _schema_errors({**BASE, "probes": [{"id": "p", "every": "5s", "http": http}]}) == []
    two = {"id": "p", "http": http, "command": {"run": "true"}}
    assert _schema_errors({**BASE, "probes": [two]}) != []
    assert _schema_errors({**BASE, "probes": [{"id": "p"}]}) != []


def test_the_schema_writes_duration_defaults_as_text() -> None:
    schema = scenario_schema()
    every = schema["$defs"]["ProbeSpec"]["properties"]["every"]
    assert every["default"] == "10s"


def test_the_schema_accepts_one_role_as_text_and_builtin_milestone_keys() -> None:
    data = {
        **BASE,
        "roles": {"support": {}},
        "objectives": {"customer_notified": {"within": "30m", "by": "support"}},
        "simulate": {"people": [{"role": "support", "person": "p", "detected": "1m-2m"}]},
    }
    assert _schema_errors(data) == []
    schema = scenario_schema()
    assert "customer_notified" in schema["properties"]["objectives"]["properties"]
