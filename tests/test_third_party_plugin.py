"""A plugin package installed beside kunren works exactly like a built-in: found through its
entry point, its parameters validated at load with file:line errors, typed in the plugin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kunren.testing import install_distribution

pytestmark = pytest.mark.integration

PLUGIN = '''
from pydantic import BaseModel, ConfigDict

import kunren


class FlushParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str


class CacheFlush(kunren.Injector[FlushParams]):
    """Flush the cache (here: write a file saying so)."""

    async def inject(self) -> kunren.Injected:
        done = self.ctx.resolve_path(self.params.path)
        done.write_text(f"flushed by {self.request.id}\\n", encoding="utf-8")
        return kunren.Injected([str(done)])


class NotAnInjector:
    pass
'''

ENTRY_POINTS = """[kunren.injectors]
mycorp.cache.flush = mycorp_kunren:CacheFlush
mycorp.broken = mycorp_kunren:NotAnInjector
"""

SCENARIO = """version: 1
id: third-party
title: Third party
duration: 2m
faults:
  - {{id: flush, at: 30s, kind: {kind}, {params}}}
"""


def _install(site: Path) -> None:
    install_distribution(site, "mycorp-kunren", "1.0", ENTRY_POINTS, {"mycorp_kunren": PLUGIN})


def _kunren(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    if not site.exists():
        site.mkdir()
        _install(site)
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, "-m", "kunren", *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _scenario(tmp_path: Path, kind: str, params: str) -> Path:
    path = tmp_path / "third-party.yaml"
    path.write_text(SCENARIO.format(kind=kind, params=params), encoding="utf-8")
    return path


def test_a_third_party_fault_kind_runs_with_its_typed_params(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "mycorp.cache.flush", "path: flushed.txt")
    listed = _kunren(tmp_path, "plugins")
    assert "mycorp.cache.flush" in listed.stdout
    assert "Flush the cache (here: write a file saying so)." in listed.stdout
    done = _kunren(tmp_path, "run", str(scenario), "--clock", "virtual", "--yes", "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "flushed.txt").read_text(encoding="utf-8") == "flushed by flush\n"


def test_its_parameters_are_checked_at_load_with_file_line_and_key(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "mycorp.cache.flush", "paht: flushed.txt")
    result = _kunren(tmp_path, "validate", str(scenario))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{scenario}:6: faults[0].paht: unknown key (did you mean 'path'?)",
        f"{scenario}:6: faults[0].path: missing required key",
    ]
    assert not (tmp_path / "drills").exists()


def test_a_registered_class_that_is_not_an_injector_is_refused_at_load(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "mycorp.broken", "path: x")
    result = _kunren(tmp_path, "validate", str(scenario))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{scenario}:6: faults[0].kind: fault kind 'mycorp.broken' "
        "(mycorp_kunren:NotAnInjector) is not a kunren.injectors.base.Injector subclass"
    ]
