"""The scenario reference stays true: every key is documented, and sample output is real.

The reference lives in ``docs/scenarios.md`` until it is merged into the README; the tests
read both, so they keep working after the merge.
"""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from kunren.cli.scenario_cmds import COMMANDS
from kunren.scenarios import models
from tests.scenarios.test_loader_corpus import EXPECTED

REPO = Path(__file__).resolve().parents[2]
KUNREN = Path(sys.executable).parent / "kunren"


def _docs() -> str:
    texts = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    return "\n".join(path.read_text(encoding="utf-8") for path in texts if path.is_file())


DOCS = _docs()
DOCUMENTED_MODELS = [
    models.Scenario,
    models.Role,
    models.Tool,
    models.MilestoneSpec,
    models.Target,
    models.ProcessTarget,
    models.Ec2Target,
    models.AsgTarget,
    models.EcsTarget,
    models.RdsTarget,
    models.Select,
    models.Service,
    models.Load,
    models.LoadStageSpec,
    models.Distributed,
    models.MasterAddress,
    models.Fault,
    models.InjectSpec,
    models.ProbeSpec,
    models.StopCondition,
    models.Objective,
    models.RunbookSpec,
    models.Notifications,
    models.AudienceSpec,
    models.Approval,
    models.Simulate,
    models.SimulatedPerson,
    models.Safety,
]
# Filled in while loading from the written form (a probe's kind is its key, a fault's own
# keys become params): users never write these under these names.
INTERNAL = {("ProbeSpec", "kind"), ("Fault", "params"), ("ProbeSpec", "params")}
INTERNAL |= {("RunbookSpec", "params"), ("SimulatedPerson", "milestones")}


def _keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


@pytest.mark.parametrize("model", DOCUMENTED_MODELS, ids=lambda m: m.__name__)
def test_every_key_of_the_format_is_in_the_reference(model: type[BaseModel]) -> None:
    keys = [key for key in _keys(model) if (model.__name__, key) not in INTERNAL]
    missing = [key for key in keys if f"`{key}`" not in DOCS]
    assert missing == []


def test_every_built_in_milestone_and_inject_kind_is_named() -> None:
    for name in models.BUILTIN_MILESTONES:
        assert f"`{name}`" in DOCS
    for kind in typing.get_args(models.InjectKind):
        assert f"`{kind}`" in DOCS


def test_every_command_of_the_area_is_documented() -> None:
    for command in COMMANDS:
        assert f"kunren {command.name}" in DOCS


def _sample(command: str) -> list[str]:
    """The lines shown under ``$ COMMAND`` in the reference, up to the next blank line
    that is followed by unindented text."""
    lines = DOCS.splitlines()
    start = lines.index(f"    $ {command}") + 1
    out = []
    for line in lines[start:]:
        if line and not line.startswith("    "):
            break
        if line.startswith("    $ "):
            break
        out.append(line.removeprefix("    "))
    while out and not out[-1]:
        out.pop()
    return out


def test_the_plan_sample_is_what_kunren_plan_prints() -> None:
    result = subprocess.run(
        [str(KUNREN), "plan", "scenarios/demo-shop.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert _sample("kunren plan scenarios/demo-shop.yaml") == result.stdout.rstrip().splitlines()


def test_the_plugins_sample_is_what_kunren_plugins_prints() -> None:
    result = subprocess.run(
        [str(KUNREN), "plugins"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert _sample("kunren plugins") == result.stdout.rstrip().splitlines()


def test_the_error_samples_are_lines_the_corpus_really_produces() -> None:
    start = DOCS.index("Examples\nfrom the test corpus")
    block = DOCS[start:].split("\n\n", 2)[1]
    samples = [line.strip() for line in block.splitlines()]
    assert len(samples) >= 5
    real = set(EXPECTED.strip().splitlines())
    assert [s for s in samples if s not in real] == []
