"""``kunren --help`` (and the commands that only read files) start without heavy libraries.

boto3, Locust, moto and the web stack take seconds to import and are optional extras; the CLI
modules import them inside the commands that need them. Each case runs in a fresh interpreter
and reads ``sys.modules`` after the command has finished.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # runs kunren in child processes

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("boto3", "botocore", "locust", "moto", "gevent", "starlette", "uvicorn")

PROBE = """
import json, sys
from kunren.cli import main
try:
    main(json.loads(sys.argv[1]))
except SystemExit as exit:
    code = exit.code
heavy = json.loads(sys.argv[2])
loaded = sorted({name.split(".")[0] for name in sys.modules} & set(heavy))
with open(sys.argv[3], "w") as out:
    json.dump({"code": code, "loaded": loaded}, out)
"""


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
def test_command_does_not_import_heavy_libraries(args: list[str], tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY), str(report)],
        cwd=REPO,
        capture_output=True,
        timeout=60,
        check=True,
    )
    result = json.loads(report.read_text(encoding="utf-8"))
    assert result == {"code": 0, "loaded": []}


def test_the_probe_would_see_a_heavy_import(tmp_path: Path) -> None:
    """The check itself works: importing boto3 first shows up in the report."""
    report = tmp_path / "report.json"
    probe = "import boto3\n" + PROBE
    subprocess.run(
        [sys.executable, "-c", probe, json.dumps(["--help"]), json.dumps(HEAVY), str(report)],
        cwd=REPO,
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert "boto3" in json.loads(report.read_text(encoding="utf-8"))["loaded"]
