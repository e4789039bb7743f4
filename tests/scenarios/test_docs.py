"""The scenario reference stays true: every key is documented, and sample output is real.

The reference is read from README.md and every page under docs/ (the format is in
docs/reference/scenarios.md), so the tests hold wherever a section lives.
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


def docs_text(root: Path) -> str:
    texts = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    return "\n".join(path.read_text(encoding="utf-8") for path in texts if path.is_file())


DOCS = docs_text(REPO)
DOCUMENTED_MODELS: list[type[BaseModel]] = [
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


def undocumented(docs: str = DOCS) -> list[str]:
    """Keys of the format, built-in milestones, inject kinds and commands the docs lack."""
    missing = [
        f"{model.__name__}.{key}"
        for model in DOCUMENTED_MODELS
        for key in _keys(model)
        if (model.__name__, key) not in INTERNAL and f"`{key}`" not in docs
    ]
    names = [*models.BUILTIN_MILESTONES, *typing.get_args(models.InjectKind)]
    missing += [name for name in names if f"`{name}`" not in docs]
    missing += [f"kunren {c.name}" for c in COMMANDS if f"kunren {c.name}" not in docs]
    return missing


@pytest.mark.parametrize("model", DOCUMENTED_MODELS, ids=lambda m: m.__name__)
def test_every_key_of_the_format_is_in_the_reference(model: type[BaseModel]) -> None:
    keys = [key for key in _keys(model) if (model.__name__, key) not in INTERNAL]
    missing = [key for key in keys if f"`{key}`" not in DOCS]
    assert missing == []


def test_every_built_in_milestone_inject_kind_and_command_is_named() -> None:
    assert undocumented() == []
    assert "kunren validate" in undocumented("`version` `id`")  # the check can fail


def sample(command: str, docs: str = DOCS) -> list[str]:
    """The lines shown under ``$ COMMAND`` in the reference, up to the next blank line
    that is followed by unindented text."""
    lines = docs.splitlines()
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
    assert sample("kunren plan scenarios/demo-shop.yaml") == result.stdout.rstrip().splitlines()


def test_the_plugins_sample_is_what_kunren_plugins_prints() -> None:
    result = subprocess.run(
        [str(KUNREN), "plugins"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert sample("kunren plugins") == result.stdout.rstrip().splitlines()


def error_samples(docs: str = DOCS) -> list[str]:
    start = docs.index("Examples\nfrom the test corpus")
    block = docs[start:].split("\n\n", 2)[1]
    return [line.strip() for line in block.splitlines()]


def test_the_error_samples_are_lines_the_corpus_really_produces() -> None:
    samples = error_samples()
    assert len(samples) >= 5
    real = set(EXPECTED.strip().splitlines())
    assert [s for s in samples if s not in real] == []
