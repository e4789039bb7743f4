"""``kunren init``, ``kunren schema`` and ``kunren plugins`` through the installed command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

from kunren.scenarios.workspace import FOLDER_READMES, example_files

KUNREN = Path(sys.executable).parent / "kunren"


def _kunren(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KUNREN), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def test_init_makes_a_workspace_whose_examples_validate(tmp_path: Path) -> None:
    result = _kunren("init", "ws", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    ws = tmp_path / "ws"
    for folder in ("scenarios", "drills", "scorers", "reports"):
        assert (ws / folder).is_dir()
    for folder, text in FOLDER_READMES.items():
        assert (ws / folder / "README.md").read_text(encoding="utf-8") == text
    for name, data in example_files().items():
        assert (ws / "scenarios" / name).read_bytes() == data
    assert result.stdout.splitlines()[0] == (
        f"Created a kunren workspace in ws ({len(example_files()) + len(FOLDER_READMES)} files):"
    )

    checked = _kunren("validate", "ws/scenarios", cwd=tmp_path)
    assert checked.stdout.splitlines() == [
        "ok: ws/scenarios/aws-web-outage.yaml",
        "ok: ws/scenarios/demo-shop.yaml",
        "ok: ws/scenarios/tabletop-notify.yaml",
    ]
    assert checked.returncode == 0


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "mine.txt").write_text("keep me", encoding="utf-8")
    result = _kunren("init", "ws", cwd=tmp_path)
    assert result.stderr.splitlines() == [
        "Error: ws is not empty; use --force to add the example workspace to it "
        "(files of the same name are replaced)"
    ]
    assert result.stdout == ""
    assert result.returncode == 2
    assert sorted(p.name for p in ws.iterdir()) == ["mine.txt"]


def test_init_force_adds_the_workspace_and_leaves_other_files_alone(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "scenarios").mkdir(parents=True)
    (ws / "mine.txt").write_text("keep me", encoding="utf-8")
    (ws / "scenarios" / "demo-shop.yaml").write_text("old", encoding="utf-8")
    result = _kunren("init", "ws", "--force", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (ws / "mine.txt").read_text(encoding="utf-8") == "keep me"
    assert (ws / "scenarios" / "demo-shop.yaml").read_bytes() == example_files()["demo-shop.yaml"]


def test_init_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "ws").write_text("", encoding="utf-8")
    result = _kunren("init", "ws", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["Error: ws is a file, not a folder"]


def test_schema_prints_json_and_writes_the_same_to_a_file(tmp_path: Path) -> None:
    printed = _kunren("schema", cwd=tmp_path)
    assert printed.returncode == 0
    schema = json.loads(printed.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)

    written = _kunren("schema", "-o", "kunren.schema.json", cwd=tmp_path)
    assert written.returncode == 0
    assert written.stdout == "wrote kunren.schema.json\n"
    assert (tmp_path / "kunren.schema.json").read_text(encoding="utf-8") == printed.stdout


def test_the_written_schema_checks_a_scenario_file_like_an_editor_would(tmp_path: Path) -> None:
    _kunren("schema", "-o", "s.json", cwd=tmp_path)
    schema = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    scenario = yaml.safe_load(
        "version: 1\nid: x\ntitle: X\nduration: 30m\n"
        "faults:\n  - {id: a, at: 5m, kind: process.kill, signal: KILL, colour: red}\n"
    )
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(scenario)]
    assert errors == ["Additional properties are not allowed ('colour' was unexpected)"]


def test_plugins_lists_every_group_with_install_and_availability(tmp_path: Path) -> None:
    result = _kunren("plugins", cwd=tmp_path)
    assert result.returncode == 0
    rows = [line.split(None, 5) for line in result.stdout.splitlines()]
    assert rows[0] == ["GROUP", "KIND", "EXTRA", "INSTALLED", "STATUS", "SUMMARY"]
    by_kind = {(row[0], row[1]): row for row in rows[1:]}
    assert by_kind["injector", "http.fault"][2:5] == ["-", "yes", "available"]
    assert by_kind["injector", "aws.ec2.terminate"][2:4] == ["aws", "yes"]
    assert {group for group, _ in by_kind} == {"injector", "probe", "channel", "scorer"}
    assert all(row[4] in ("available", "not-yet", "load-error") for row in rows[1:])
