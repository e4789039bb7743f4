"""Commands start without what they do not need: heavy libraries, other layers, other commands.

boto3, Locust, moto and the web stack take seconds to import and are optional extras; the CLI
modules import them inside the commands that need them. ``kunren validate`` loads the scenario
layer alone (no event models, no conductor, no report, no other command's module) and scans
the plugin entry points only when the scenario names a plugin kind; a tiny ``kunren run
--clock virtual --no-web`` (its end-of-run report included) loads no AWS, web, service or
load-testing code, reuses the report template compiled by an earlier run and runs few garbage
collections while importing. Each case runs in a fresh
interpreter and reads ``sys.modules`` after the command has finished. These are import checks,
not timings: the times are measured by ``bench/startup.py``.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kunren.cli import COMMAND_MODULES

pytestmark = pytest.mark.integration  # runs kunren in child processes

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("boto3", "botocore", "locust", "moto", "gevent", "starlette", "uvicorn", "httpx")

PROBE = """
import json, sys
compiled = []
def count_templates(event, args):  # Jinja compiles a template with compile(): an audit event
    if event == "compile" and str(args[1]).endswith(".j2"):
        compiled.append(args[1])
sys.addaudithook(count_templates)
import gc
collections = []
gc.callbacks.append(lambda phase, info: collections.append(phase) if phase == "start" else None)
from kunren import plugins
from kunren.cli import main
try:
    main(json.loads(sys.argv[1]))
except SystemExit as exit:
    code = exit.code
watched = json.loads(sys.argv[2])
loaded = sorted(
    name for name in watched if any(m == name or m.startswith(name + ".") for m in sys.modules)
)
with open(sys.argv[3], "w") as out:
    json.dump(
        {
            "code": code,
            "loaded": loaded,
            "scanned": plugins._registry.cache_info().currsize > 0,
            "compiled": len(compiled),
            "collections": len(collections),
        },
        out,
    )
"""

TINY = """\
version: 1
id: tiny
title: Tiny
duration: 1m
injects:
  - {at: 10s, kind: announcement, text: "hello"}
"""

ONE_KILL = """\
version: 1
id: one-kill
title: One kill
duration: 1m
services:
  web: {command: ["sleep", "60"]}
targets:
  web: {process: {service: web}}
faults:
  - {id: kill-web, at: 10s, kind: process.kill, target: web}
"""

# Every built-in kind that is not AWS (scenarios/aws-web-outage.yaml names those), each
# channel, each probe.
EVERY_KIND = """\
version: 1
id: every-kind
title: Every built-in kind
duration: 30m
roles: {sre: {}, support: {}}
services:
  web: {command: ["sleep", "60"]}
targets:
  web: {process: {service: web}}
  site: {url: "http://127.0.0.1:8080", upstream: "http://127.0.0.1:8081"}
faults:
  - {id: kill-web, at: 1m, kind: process.kill, target: web}
  - {id: freeze-web, at: 2m, kind: process.stop, target: web, for: 1m}
  - {id: restart-web, at: 3m, kind: process.restart, target: web}
  - {id: slow, at: 4m, kind: http.fault, target: site, latency: 2s, for: 2m}
probes:
  - {id: cmd, every: 30s, command: {run: ["true"]}}
  - {id: web, every: 30s, http: {url: "http://127.0.0.1:8080/"}}
  - {id: prom, every: 30s, prometheus: {url: "http://127.0.0.1:9090", query: "up == 0"}}
notifications:
  channels:
    - capture
    - {email: {host: 127.0.0.1, port: 2525, from: drill@example.com}}
    - {slack: {url: "http://127.0.0.1:9/hook"}}
    - {webhook: {url: "http://127.0.0.1:9/hook"}}
    - statuspage
    - {sns: {topic_arn: "arn:aws:sns:ap-northeast-1:123456789012:drill"}}
"""

# What checking a kind's parameters needs none of: the code that runs it. A kind's module
# imports these (asyncio, smtplib, urllib, jinja2, the clock, the notice service) inside the
# methods that inject, probe or send.
NOT_FOR_CHECKING_KINDS = (
    *HEAVY,
    "asyncio",
    "ssl",
    "smtplib",
    "urllib.request",
    "jinja2",
    "kunren.record",
    "kunren.runtime.clock",
    "kunren.runtime.http1",
    "kunren.injectors.fault_proxy",
    "kunren.notify.service",
    "kunren.notify.drafts",
    "kunren.notify.templates",
    "kunren.notify.audiences",
    "kunren.notify.smtp_send",
)

# Layers and modules a command that only reads a scenario has no use for.
NOT_FOR_VALIDATE = (
    *HEAVY,
    "jinja2",
    "asyncio",
    "kunren.record.events",
    "kunren.drills",
    "kunren.injectors",
    "kunren.probes",
    "kunren.notify",
    "kunren.page",
    "kunren.scorers",
    "kunren.reports",
    "kunren.cli.drill_cmds",
    "kunren.cli.record_cmds",
    "kunren.cli.score_cmds",
    "kunren.cli.notify_cmds",
    "kunren.cli.aws_cmds",
    "kunren.scenarios.errors_map",  # wording problems: only when there are some
    "kunren.scenarios.partial",
)
# What a tiny drill on the virtual clock without the page has no use for.
NOT_FOR_A_TINY_RUN = (
    *HEAVY,
    "aiosmtpd",
    "playwright",
    "segno",
    "smtplib",
    "kunren.injectors.aws",
    "kunren.injectors.process",
    "kunren.probes.http",
    "kunren.probes.cloudwatch",
    "kunren.page",  # the page, the intake and their options: only with --web
    "kunren.drills.serving",
    "kunren.drills.services",  # only when the scenario has services
    "kunren.drills.recovery",  # only for kunren revert, abort and resume
    "kunren.drills.resume",
    "kunren.notify",  # only when the scenario has channels
    "urllib.request",  # a service's ready check
    "http.client",
    "email.parser",
    "kunren.cli.record_cmds",
    "kunren.cli.score_cmds",
    "kunren.cli.notify_cmds",
    "kunren.cli.aws_cmds",
    "kunren.cli.scenario_cmds",
)


def _probe(
    args: list[str], watched: tuple[str, ...], cwd: Path, env: dict[str, str] | None = None
) -> dict[str, object]:
    report = cwd / ".probe.json"
    subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(watched), str(report)],
        cwd=cwd,
        capture_output=True,
        timeout=120,
        check=True,
        env=env,
    )
    result: dict[str, object] = json.loads(report.read_text(encoding="utf-8"))
    report.unlink()
    return result


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["validate", "scenarios/"],
        ["plan", "scenarios/demo-shop.yaml"],
        ["plan", "scenarios/aws-web-outage.yaml"],
        ["schema"],
        ["plugins"],
    ],
    ids=" ".join,
)
def test_command_does_not_import_heavy_libraries(args: list[str]) -> None:
    result = _probe(args, HEAVY, REPO)
    assert (result["code"], result["loaded"]) == (0, [])


def test_validate_of_a_tiny_scenario_loads_the_scenario_layer_alone(tmp_path: Path) -> None:
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    result = _probe(["validate", "tiny.yaml"], NOT_FOR_VALIDATE, tmp_path)
    assert {key: result[key] for key in ("code", "loaded", "scanned", "compiled")} == {
        "code": 0,
        "loaded": [],
        "scanned": False,
        "compiled": 0,
    }


def test_validate_loads_only_the_plugin_kinds_the_scenario_names(tmp_path: Path) -> None:
    (tmp_path / "kill.yaml").write_text(ONE_KILL, encoding="utf-8")
    watched = (
        "kunren.injectors.process",
        "kunren.injectors.aws",
        "kunren.probes",
        "asyncio",
        *HEAVY,
    )
    result = _probe(["validate", "kill.yaml"], watched, tmp_path)
    assert result["code"] == 0
    assert result["scanned"] is True
    assert result["loaded"] == ["kunren.injectors.process"]


def test_validate_checks_every_built_in_kind_without_the_code_that_runs_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "every.yaml").write_text(EVERY_KIND, encoding="utf-8")
    args = ["validate", "every.yaml", str(REPO / "scenarios")]
    result = _probe(args, NOT_FOR_CHECKING_KINDS, tmp_path)
    assert (result["code"], result["loaded"], result["scanned"]) == (0, [], True)


def test_an_unknown_kind_is_still_a_located_error_with_the_known_kinds(tmp_path: Path) -> None:
    (tmp_path / "odd.yaml").write_text(
        ONE_KILL.replace("kind: process.kill", "kind: chaos.monkey"), encoding="utf-8"
    )
    done = subprocess.run(
        [sys.executable, "-m", "kunren", "validate", "odd.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    from kunren import plugins

    known = ", ".join(plugins.names(plugins.INJECTORS))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"odd.yaml:10: faults[0].kind: unknown fault kind 'chaos.monkey' (known: {known})"
    ]


def test_a_tiny_virtual_run_loads_no_aws_web_or_load_code_and_reuses_the_template(
    tmp_path: Path,
) -> None:
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    private_tmp = tmp_path / "tmp"  # the template cache lives in the temp folder: this one
    private_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(private_tmp)}
    args = ["run", "--clock", "virtual", "--no-web", "-q", "--drills", "drills", "tiny.yaml"]
    first = _probe(args, NOT_FOR_A_TINY_RUN, tmp_path, env)
    second = _probe(args, NOT_FOR_A_TINY_RUN, tmp_path, env)
    assert (first["code"], first["loaded"]) == (0, [])
    assert first["compiled"] == 1  # the HTML report's template, compiled once per machine
    # The collector is off while the conductor's layers and the report's are imported: in this
    # probe (which imports pydantic before the command starts) 117 collections before, 57 now.
    assert isinstance(second["collections"], int) and second["collections"] < 90
    assert (second["code"], second["loaded"], second["compiled"]) == (0, [], 0)
    assert len(list((tmp_path / "reports").glob("tiny-*.html"))) == 2


def test_the_probe_would_see_a_heavy_import_a_scan_and_a_compile(tmp_path: Path) -> None:
    """The checks themselves work: each of them sees what it looks for."""
    (tmp_path / "x.j2").write_text("{{ x }}", encoding="utf-8")
    probe = PROBE.replace(
        "from kunren.cli import main\n",
        "from kunren.cli import main\nimport boto3\nplugins.names(plugins.SCORERS)\n"
        "import jinja2\n"
        "jinja2.Environment(loader=jinja2.FileSystemLoader('.')).get_template('x.j2')\n"
        "gc.collect()\n",
    )
    report = tmp_path / "report.json"
    subprocess.run(
        [sys.executable, "-c", probe, json.dumps(["--help"]), json.dumps(HEAVY), str(report)],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        check=True,
    )
    result = json.loads(report.read_text(encoding="utf-8"))
    assert "boto3" in result["loaded"]
    assert result["scanned"] is True
    assert result["compiled"] == 1
    assert result["collections"] >= 1


def test_every_command_is_found_in_the_module_the_group_names() -> None:
    """``COMMAND_MODULES`` (what the lazy group imports for a name) matches each ``COMMANDS``."""
    declared: dict[str, str] = {}
    for module in sorted(set(COMMAND_MODULES.values())):
        for command in importlib.import_module(f"kunren.cli.{module}").COMMANDS:
            assert command.name is not None
            declared[command.name] = module
    assert declared == dict(COMMAND_MODULES)


def test_an_unknown_command_is_still_a_usage_error_with_a_suggestion(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kunren", "vaildate", "x.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert (
        done.stderr.splitlines()[-1]
        == "Error: No such command 'vaildate'. Did you mean 'validate'?"
    )


def test_help_lists_every_command_of_the_table() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kunren", "--help"], capture_output=True, text=True, timeout=60
    )
    rows = done.stdout.split("Commands:", 1)[1].splitlines()
    listed = [row.split()[0] for row in rows if row.startswith("  ") and not row.startswith("   ")]
    assert done.returncode == 0
    assert listed == sorted(COMMAND_MODULES)
