"""Start-up: ``kunren --help`` and ``kunren validate scenarios/`` against importing click.

A command people type many times a day must start fast, and ``--help`` must not drag in the
heavy libraries (boto3, Locust, starlette…) that only some commands need. The baseline is the
floor any click program pays: the interpreter plus click. Runs alternate (baseline, help,
validate, baseline, …) and the medians are compared. The issue sets no number for these, so the
rows are informational; the heavy-import check below is a hard expectation.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path

from bench.common import KUNREN, PYTHON, REPO, Row

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
    return rows
