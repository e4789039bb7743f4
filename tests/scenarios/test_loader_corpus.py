"""The loader against a corpus of broken scenarios: every error line, exact, all at once.

Each file in ``broken/`` is wrong on purpose (its first line says how). ``EXPECTED`` holds every
line ``kunren validate`` must print for it, in order: the file, the line, the key path and the
message a user reads. A file is listed whole, so a missing or extra error fails the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from kunren import plugins
from kunren.errors import ScenarioError
from kunren.scenarios.loader import load_scenario

BROKEN = Path(__file__).parent / "broken"
REPO = Path(__file__).resolve().parents[2]
KUNREN = Path(sys.executable).parent / "kunren"

EXPECTED = r"""
aws-without-safety.yaml:10: faults[0].kind: aws.ec2.terminate needs a safety section (require_tag, max_targets, allowed_regions…)
aws-without-safety.yaml:12: runbooks[0].kind: aws.asg.set-capacity needs a safety section (require_tag, max_targets, allowed_regions…)
bad-durations.yaml:5: duration: expected a duration like 5m, got 'fifteen'
bad-durations.yaml:9: faults[0].at: expected a duration like 5m, got '5 minutes'
bad-durations.yaml:10: faults[1].at: expected a duration like 5m, got 10 (add a unit: 5m, 90s)
bad-durations.yaml:10: faults[1].for: expected a duration like 5m, got '1h-ish'
bad-durations.yaml:12: probes[0].every: expected a duration like 5m, got '5x'
bad-ids.yaml:3: id: expected an id of letters, digits, '-', '_' or '.', got 'has spaces'
bad-ids.yaml:9: faults[0].id: expected an id of letters, digits, '-', '_' or '.', got 'kill it!'
bad-plugin-params.yaml:10: faults[0].match.paht: unknown key (did you mean 'path'?)
bad-plugin-params.yaml:10: faults[0].respond.status: must be at most 599, got 999
bad-plugin-params.yaml:11: faults[1].signal: expected a signal name (TERM, KILL, HUP…) or number, got 'FOO'
bad-plugin-params.yaml:13: probes[0].http.url: missing required key
dangling-milestones.yaml:7: roles.sre.milestones[1]: unknown milestone 'fixed'; built-in: detected, acknowledged, escalated, triaged, customer_notified, mitigated, resolved; declare others under milestones:
dangling-milestones.yaml:9: objectives.detectd: unknown milestone 'detectd' (did you mean 'detected'?); built-in: detected, acknowledged, escalated, triaged, customer_notified, mitigated, resolved; declare others under milestones:
dangling-milestones.yaml:12: simulate.people[0].escalate: unknown milestone 'escalate' (did you mean 'escalated'?); built-in: detected, acknowledged, escalated, triaged, customer_notified, mitigated, resolved; declare others under milestones:
dangling-probes.yaml:9: stop_conditions[0].probe: unknown probe 'helth' (known: health)
dangling-roles.yaml:10: injects[0].to[0]: unknown role 'suport' (known: sre, support)
dangling-roles.yaml:12: objectives.triaged.by[1]: unknown role 'ops' (known: sre, support)
dangling-roles.yaml:14: notifications.approval.by: unknown role 'commander' (known: sre, support)
dangling-roles.yaml:17: simulate.people[0].role: unknown role 'engineer' (known: sre, support)
dangling-services.yaml:9: targets.shop-proc.process.service: unknown service 'shopp' (known: shop)
dangling-targets.yaml:9: faults[0].target: unknown target 'shpo' (known: shop)
dangling-targets.yaml:11: runbooks[0].target: unknown target 'shop-proc' (known: shop)
duplicate-ids.yaml:10: faults[1].id: duplicate id 'freeze' (first used in faults[0])
duplicate-ids.yaml:13: probes[1].id: duplicate id 'check' (first used in probes[0])
duplicate-ids.yaml:16: runbooks[1].id: duplicate id 'thaw' (first used in runbooks[0])
duplicate-keys.yaml:5: title: duplicate key (first on line 4)
duplicate-keys.yaml:6: duration: expected a duration like 5m, got 'fifteen'
duplicate-keys.yaml:9: roles.sre: duplicate key (first on line 8)
empty.yaml:1: the file is empty
fault-ends-after-drill.yaml:15: faults[0].for: the fault's end 35m is after the drill ends (30m)
fault-ends-after-drill.yaml:17: injects[0].for: the inject's end 35m is after the drill ends (30m)
inject-rules.yaml:7: injects[0]: an 'unavailable' inject needs who
inject-rules.yaml:8: injects[1]: an 'inquiry' inject needs text
inject-rules.yaml:9: injects[2].kind: expected 'announcement', 'inquiry' or 'unavailable', got 'rumour'
iso-durations-accepted.yaml:9: faults[0].for: the fault's end 1h10m is after the drill ends (1h)
load-stages-order.yaml:11: load.stages[1].at: stages must be in increasing time order
load-stages-order.yaml:12: load.stages[2].at: stages must be in increasing time order
missing-files.yaml:7: load.locustfile: file not found: load/missing.py (relative to the scenario file's folder)
missing-files.yaml:13: notifications.templates.investigating: file not found: templates/nope.ja.md.j2 (relative to the scenario file's folder)
missing-files.yaml:14: notifications.templates.resolved.en: file not found: templates/resolved.en.md.j2 (relative to the scenario file's folder)
missing-files.yaml:14: notifications.templates.resolved.ja: file not found: templates/resolved.ja.md.j2 (relative to the scenario file's folder)
missing-files.yaml:16: notifications.audiences.customers.file: file not found: audiences/nope.csv (relative to the scenario file's folder)
missing-required-keys.yaml:2: duration: missing required key
missing-required-keys.yaml:2: id: missing required key
missing-required-keys.yaml:2: title: missing required key
missing-required-keys.yaml:5: faults[0].at: missing required key
missing-required-keys.yaml:7: runbooks[0].title: missing required key
objective-by-role-cannot-mark.yaml:13: objectives.triaged.by: role support cannot mark triaged (its milestones: detected, customer_notified)
objective-by-role-cannot-mark.yaml:15: objectives.update_sent.by[0]: role sre cannot mark update_sent (its milestones: detected, acknowledged, escalated, triaged, customer_notified, mitigated, resolved)
probe-shapes.yaml:7: probes[0]: give exactly one probe kind key (http, command, aws.cloudwatch.alarm…), got none
probe-shapes.yaml:8: probes[1]: give exactly one probe kind key (http, command, aws.cloudwatch.alarm…), got http, command
probe-shapes.yaml:9: probes[2].every: must be longer than 0s
region-not-allowed.yaml:7: targets.web.aws.ec2.region: region 'us-east-1' is not in safety.allowed_regions (ap-northeast-1)
scenario-is-a-list.yaml:2: expected a mapping of keys (version, id, title…), got a list
section-wrong-shape.yaml:6: faults: expected a list, got a mapping
section-wrong-shape.yaml:10: objectives: expected a mapping of keys, got a list
simulate-ranges.yaml:9: simulate.people[0].detected: range ends before it starts: '10m-5m'
simulate-ranges.yaml:9: simulate.people[0].triaged: expected a duration like 5m, got 'soon'
target-kind-mismatch.yaml:10: faults[0].target: http.fault acts on url targets; 'p' is process
target-kind-mismatch.yaml:11: faults[1]: process.kill needs a target (process)
target-shapes.yaml:7: targets.both: give exactly one of: url, process, aws.ec2, aws.asg, aws.ecs, aws.rds
target-shapes.yaml:8: targets.every-instance.aws.ec2: give filters or ids: kunren never targets every instance
target-shapes.yaml:9: targets.two-selects.aws.asg.select: give exactly one of count or percent
target-shapes.yaml:10: targets.orphan-upstream: give exactly one of: url, process, aws.ec2, aws.asg, aws.ecs, aws.rds
times-out-of-range.yaml:9: faults[0].at: time 45m is after the drill ends (30m)
times-out-of-range.yaml:11: injects[0].at: time 31m is after the drill ends (30m)
times-out-of-range.yaml:17: load.stages[1].at: time 1h is after the drill ends (30m)
times-out-of-range.yaml:20: simulate.people[0].detected: time 40m is after the drill ends (30m)
unknown-keys.yaml:2: title: missing required key
unknown-keys.yaml:4: titel: unknown key (did you mean 'title'?)
unknown-keys.yaml:6: colour: unknown key
unknown-keys.yaml:10: faults[0]: http.fault needs a target (url)
unknown-keys.yaml:10: faults[0].targte: unknown key (did you mean 'target'?)
unknown-keys.yaml:11: load.stages: missing required key
unknown-keys.yaml:14: load.stage: unknown key (did you mean 'stages'?)
unknown-plugin-kinds.yaml:9: faults[0].kind: unknown fault kind 'process.kil' (did you mean 'process.kill'?)
unknown-plugin-kinds.yaml:10: faults[1].kind: unknown fault kind 'chaos.monkey' (known: KNOWN_FAULT_KINDS)
unknown-plugin-kinds.yaml:12: probes[0].htp: unknown probe kind 'htp' (did you mean 'http'?)
unknown-plugin-kinds.yaml:14: notifications.channels[1]: unknown channel 'emial' (did you mean 'email'?)
wrong-types.yaml:2: version: expected 1, got 2
wrong-types.yaml:4: title: expected text, got a list
wrong-types.yaml:6: tags: expected a list, got 'quarterly'
wrong-types.yaml:8: roles.sre.min: expected a whole number, got 'two'
wrong-types.yaml:10: notifications.channels: expected a list, got 'capture'
wrong-types.yaml:12: simulate.seed: expected a whole number, got 'seven'
yaml-tab-indent.yaml:6: invalid YAML: found character '\t' that cannot start any token
yaml-unclosed-flow.yaml:7: invalid YAML: expected ',' or '}', but got the end of the file
"""  # noqa: E501
# Nothing close to the unknown kind: the line lists every installed fault kind.
EXPECTED = EXPECTED.replace("KNOWN_FAULT_KINDS", ", ".join(plugins.names(plugins.INJECTORS)))


def _expected() -> dict[str, list[str]]:
    by_file: dict[str, list[str]] = defaultdict(list)
    for line in EXPECTED.strip().splitlines():
        by_file[line.split(":", 1)[0]].append(line)
    return dict(by_file)


BY_FILE = _expected()


def test_the_corpus_is_large_and_every_file_has_expectations() -> None:
    files = sorted(p.name for p in BROKEN.glob("*.yaml"))
    assert len(files) >= 25
    assert files == sorted(BY_FILE)


@pytest.mark.parametrize("name", sorted(BY_FILE))
def test_broken_scenario_reports_every_error_line_exactly(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(BROKEN)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(name)
    assert caught.value.lines == BY_FILE[name]
    assert caught.value.exit_code == 2


def _kunren(*args: str, cwd: Path = BROKEN) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [str(KUNREN), *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=env
    )


def test_validate_prints_all_errors_of_all_files_on_stderr_and_exits_2() -> None:
    result = _kunren("validate", "tests/scenarios/broken/", cwd=REPO)
    expected = [f"tests/scenarios/broken/{line}" for line in EXPECTED.strip().splitlines()]
    assert result.stderr.splitlines() == expected
    assert result.stdout == ""
    assert result.returncode == 2


def test_validate_says_ok_for_good_files_beside_the_errors_of_bad_ones(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("version: 1\nid: good\ntitle: Good\nduration: 30m\n", encoding="utf-8")
    bad = BROKEN / "dangling-probes.yaml"
    result = _kunren("validate", str(good), str(bad))
    assert result.stdout.splitlines() == [f"ok: {good}"]
    assert result.stderr.splitlines() == [
        f"{bad}:9: stop_conditions[0].probe: unknown probe 'helth' (known: health)"
    ]
    assert result.returncode == 2


def test_validate_exits_0_with_ok_lines_only_when_every_file_is_valid(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yml"):
        (tmp_path / name).write_text(
            f"version: 1\nid: {name[0]}\ntitle: T\nduration: PT30M\n", encoding="utf-8"
        )
    (tmp_path / "notes.txt").write_text("not a scenario", encoding="utf-8")
    result = _kunren("validate", str(tmp_path))
    assert result.stdout.splitlines() == [f"ok: {tmp_path / 'a.yaml'}", f"ok: {tmp_path / 'b.yml'}"]
    assert result.stderr == ""
    assert result.returncode == 0


def test_validate_names_a_missing_path_and_a_folder_without_scenarios(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _kunren("validate", str(tmp_path / "nope.yaml"), str(empty))
    assert result.stderr.splitlines() == [
        f"{empty}: no scenario files (*.yaml, *.yml) here",
        f"{tmp_path / 'nope.yaml'}: no such file or folder",
    ]
    assert result.stdout == ""
    assert result.returncode == 2


def test_plan_of_a_broken_scenario_prints_its_errors_and_nothing_else() -> None:
    result = _kunren("plan", "duplicate-ids.yaml")
    assert result.stderr.splitlines() == BY_FILE["duplicate-ids.yaml"]
    assert result.stdout == ""
    assert result.returncode == 2
