"""Start-up: ``kunren --help`` and ``kunren validate scenarios/`` against importing click.

A command people type many times a day must start fast, and ``--help`` must not drag in the
heavy libraries (boto3, Locust, starlette…) that only some commands need. The baseline is the
floor any click program pays: the interpreter plus click. Runs alternate (baseline, help,
validate, baseline, …) and the medians are compared. These rows are informational; the
heavy-import check below is a hard expectation.

Beside the nearest peer: ``kunren validate FILE`` against ``chaos validate`` (Chaos Toolkit,
installed by the ``kunren[bench]`` extra) on equally tiny inputs (one announcement; one action
calling ``os.path.exists``), and a tiny ``kunren run --clock virtual --no-web`` against
``chaos run`` of that experiment. Target: kunren no slower (≤ 1.0×). Each round runs both,
alternating which goes first, until the per-round ratios settle. Without chaostoolkit the rows
say so.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from pathlib import Path

from bench.common import KUNREN, PYTHON, REPO, Row, at_most, error_row, scratch, settle

HEAVY = (
    "boto3",
    "botocore",
    "locust",
    "gevent",
    "moto",
    "starlette",
    "uvicorn",
    "aiosmtpd",
    "playwright",
    "httpx",
)


def _kunren() -> list[str]:
    script = Path(PYTHON).parent / "kunren"
    return [str(script)] if script.is_file() else list(KUNREN)


def _time(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, timeout=60, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr[-500:]!r}")
    return elapsed


TINY_SCENARIO = """\
version: 1
id: tiny
title: Tiny
duration: 1m
injects:
  - {at: 10s, kind: announcement, text: "hello"}
"""
TINY_EXPERIMENT = (
    '{"title": "tiny", "description": "tiny", "method": [{"type": "action", "name": "check", '
    '"provider": {"type": "python", "module": "os.path", "func": "exists", '
    '"arguments": {"path": "/"}}}]}'
)


def _chaos() -> str | None:
    script = Path(PYTHON).parent / "chaos"
    return str(script) if script.is_file() else shutil.which("chaos")


def _peer_rows(quick: bool) -> list[Row]:
    chaos = _chaos()
    if chaos is None:
        reason = "chaostoolkit is not installed (pip install -e '.[bench]')"
        return [error_row("start-up: kunren validate vs chaos validate", reason)]
    kunren = _kunren()
    rows = []
    with scratch("startup-") as folder:
        (folder / "tiny.yaml").write_text(TINY_SCENARIO, encoding="utf-8")
        (folder / "tiny.json").write_text(TINY_EXPERIMENT, encoding="utf-8")
        pairs = {
            "validate": (
                [*kunren, "validate", "tiny.yaml"],
                [chaos, "--no-log-file", "validate", "tiny.json"],
            ),
            "run": (
                [
                    *kunren,
                    "run",
                    "--clock",
                    "virtual",
                    "--no-web",
                    "-q",
                    "--drills",
                    "d",
                    "tiny.yaml",
                ],
                [chaos, "--no-log-file", "run", "--journal-path", "journal.json", "tiny.json"],
            ),
        }
        for name, (ours, theirs) in pairs.items():
            _time(ours, folder)  # warm the page cache and .pyc files first
            _time(theirs, folder)
            times: dict[str, list[float]] = {"kunren": [], "chaos": []}

            def one_round(
                n: int,
                ours: list[str] = ours,
                theirs: list[str] = theirs,
                times: dict[str, list[float]] = times,
            ) -> float:
                order = (("kunren", ours), ("chaos", theirs))
                took = {}
                for who, args in order if n % 2 == 0 else reversed(order):
                    took[who] = _time(args, folder)
                    times[who].append(took[who])
                return took["kunren"] / took["chaos"]

            target = at_most(1.0, "≤ 1.0×")
            result = settle(
                one_round,
                target,
                min_rounds=3 if quick else 5,
                max_rounds=6 if quick else 30,
                max_seconds=20 if quick else 60,
            )
            ours_ms = statistics.median(times["kunren"]) * 1000
            theirs_ms = statistics.median(times["chaos"]) * 1000
            label = (
                "kunren validate FILE" if name == "validate" else "tiny kunren run --clock virtual"
            )
            rows.append(
                Row(
                    f"start-up: {label} vs chaos {name}",
                    f"{ours_ms:.0f} ms",
                    f"{theirs_ms:.0f} ms (chaos {name})",
                    result.ratio,
                    f"{result.ratio:.2f}×",
                    target,
                    [
                        f"{' '.join(ours[1:])}: median {ours_ms:.0f} ms; "
                        f"chaos {name}: median {theirs_ms:.0f} ms",
                        result.describe(lambda r: f"{r:.2f}×"),
                    ],
                    settled=result.settled,
                    load=result.load,
                )
            )
    return rows


def heavy_imports_of_help() -> list[str]:
    """Top-level packages among HEAVY that building ``kunren --help`` imports."""
    code = (
        "import sys\n"
        "from kunren.cli import cli\n"
        "cli.main(args=['--help'], standalone_mode=False)\n"
        f"print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))\n"
    )
    done = subprocess.run(
        [PYTHON, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return [name for name in last.split(",") if name and " " not in name]


def run(quick: bool) -> list[Row]:
    rounds = 3 if quick else 15
    kunren = _kunren()
    commands = {
        "baseline": [PYTHON, "-c", "import click"],
        "help": [*kunren, "--help"],
        "validate": [*kunren, "validate", "scenarios/"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for args in commands.values():  # warm the page cache and .pyc files first
        _time(args, REPO)
    for _ in range(rounds):
        for name, args in commands.items():
            times[name].append(_time(args, REPO))
    base = statistics.median(times["baseline"])
    heavy = heavy_imports_of_help()
    rows = []
    for name, label in (("help", "kunren --help"), ("validate", "kunren validate scenarios/")):
        median = statistics.median(times[name])
        ratio = median / base
        details = [
            f"{label}: median of {rounds} runs {median * 1000:.0f} ms "
            f"(min {min(times[name]) * 1000:.0f} ms); "
            f"import click: {base * 1000:.0f} ms (min {min(times['baseline']) * 1000:.0f} ms)"
        ]
        if name == "help":
            details.append(
                "heavy libraries imported by --help: " + (", ".join(heavy) if heavy else "none")
            )
        rows.append(
            Row(
                f"start-up: {label}",
                f"{median * 1000:.0f} ms",
                f"{base * 1000:.0f} ms",
                ratio,
                f"{ratio:.1f}×",
                None,
                details,
                holds=not heavy if name == "help" else None,
                expect="no heavy imports" if name == "help" else "",
            )
        )
    return rows + _peer_rows(quick)
