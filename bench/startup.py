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

Equal footing: every kunren run writes a fresh drills folder (the first drill of its series,
as ``chaos run`` overwrites its journal; the cost of a long series is the ``series``
benchmark's), and both tools run with their bytecode cached in the scratch folder
(``PYTHONPYCACHEPREFIX``), as after ``pip install``, even where ``PYTHONDONTWRITEBYTECODE`` is
set (kunren's editable sources would otherwise be compiled on every start, chaostoolkit's
installed ones not). The details also give the top five packages of ``-X importtime`` (self
time, summed by package) of each kunren command.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping
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


def _time(args: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, timeout=60, check=False, env=env)
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


def _cached_bytecode(folder: Path) -> dict[str, str]:
    """The environment for both tools: bytecode written and read under ``folder``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return env


def import_top(args: list[str], cwd: Path, env: Mapping[str, str], n: int = 5) -> str:
    """The ``n`` packages with the most ``-X importtime`` self time in one run of ``args``.

    ``args`` is a kunren command line (without the program); kunren's own subpackages are
    kept apart (``kunren.scenarios``), every other package is summed under its top name.
    """
    done = subprocess.run(
        [PYTHON, "-X", "importtime", "-m", "kunren", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=dict(env),
    )
    self_us: collections.Counter[str] = collections.Counter()
    for text in done.stderr.splitlines():
        if not text.startswith("import time:") or "self [us]" in text:
            continue
        own, _, name = text.removeprefix("import time:").split("|")
        parts = name.strip().split(".")
        self_us[".".join(parts[:2]) if parts[0] == "kunren" else parts[0]] += int(own)
    total = sum(self_us.values()) / 1000
    top = ", ".join(f"{name} {us / 1000:.0f}" for name, us in self_us.most_common(n))
    return f"import time (self, ms, of {total:.0f} ms in all): {top}"


def _instructions(command: list[str], cwd: Path, env: Mapping[str, str]) -> int | None:
    """Instructions one run of ``command`` executes (valgrind's callgrind), or None.

    Unlike a time, the count does not depend on the machine's load: with ``PYTHONHASHSEED``
    fixed, two runs of the same code agree to about 0.1%.
    """
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    with scratch("callgrind-") as out:
        done = subprocess.run(
            [valgrind, "--tool=callgrind", f"--callgrind-out-file={out / 'cg.out'}", *command],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            env={**env, "PYTHONHASHSEED": "0"},
        )
    found = re.search(r"Collected : (\d+)", done.stderr)
    return int(found.group(1)) if done.returncode == 0 and found else None


def _peer_rows(quick: bool) -> list[Row]:
    chaos = _chaos()
    if chaos is None:
        reason = "chaostoolkit is not installed (pip install -e '.[bench]')"
        return [error_row("start-up: kunren validate vs chaos validate", reason)]
    kunren = _kunren()
    rows = []
    with scratch("startup-") as folder:
        env = _cached_bytecode(folder)
        (folder / "tiny.yaml").write_text(TINY_SCENARIO, encoding="utf-8")
        (folder / "tiny.json").write_text(TINY_EXPERIMENT, encoding="utf-8")
        run_args = ["run", "--clock", "virtual", "--no-web", "-q", "--drills", "d", "tiny.yaml"]
        pairs = {
            "validate": (
                ["validate", "tiny.yaml"],
                [chaos, "--no-log-file", "validate", "tiny.json"],
            ),
            "run": (
                run_args,
                [chaos, "--no-log-file", "run", "--journal-path", "journal.json", "tiny.json"],
            ),
        }

        def fresh() -> None:
            """Each kunren run is the first drill of its series, as each chaos run is."""
            shutil.rmtree(folder / "d", ignore_errors=True)
            shutil.rmtree(folder / "reports", ignore_errors=True)

        for name, (args, theirs) in pairs.items():
            ours = [*kunren, *args]
            _time(ours, folder, env)  # compile both tools' bytecode, warm the page cache
            _time(theirs, folder, env)
            times: dict[str, list[float]] = {"kunren": [], "chaos": []}

            def one_round(
                n: int,
                ours: list[str] = ours,
                theirs: list[str] = theirs,
                times: dict[str, list[float]] = times,
            ) -> float:
                order = (("kunren", ours), ("chaos", theirs))
                took = {}
                for who, command in order if n % 2 == 0 else reversed(order):
                    fresh()
                    took[who] = _time(command, folder, env)
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
            fresh()
            top = import_top(args, folder, env)
            counts = None if quick else _count_both(ours, theirs, folder, env, fresh)
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
                        f"kunren {' '.join(args)}: median {ours_ms:.0f} ms "
                        f"(min {min(times['kunren']) * 1000:.0f}); chaos {name}: median "
                        f"{theirs_ms:.0f} ms (min {min(times['chaos']) * 1000:.0f}); "
                        "bytecode cached for both",
                        result.describe(lambda r: f"{r:.2f}×"),
                        f"kunren {name}: {top}",
                    ],
                    settled=result.settled,
                    load=result.load,
                )
            )
            if counts is not None:
                rows.append(_instruction_row(label, name, *counts))
        fresh()
    return rows


def _count_both(
    ours: list[str],
    theirs: list[str],
    folder: Path,
    env: Mapping[str, str],
    fresh: Callable[[], None],
) -> tuple[int, int] | None:
    """Instructions of one run of each tool, under valgrind; None without valgrind."""

    def count(command: list[str]) -> int | None:
        fresh()
        # name the interpreter of a #! script, so both tools are counted alike
        return _instructions(command if command[0] == PYTHON else [PYTHON, *command], folder, env)

    mine, peer = count(ours), count(theirs)
    return None if mine is None or peer is None else (mine, peer)


def _instruction_row(label: str, name: str, ours: int, theirs: int) -> Row:
    ratio = ours / theirs
    return Row(
        f"start-up: {label} vs chaos {name}, instructions",
        f"{ours / 1e6:,.0f} M",
        f"{theirs / 1e6:,.0f} M (chaos {name})",
        ratio,
        f"{ratio:.2f}×",
        None,
        [
            f"instructions of one run each under valgrind --tool=callgrind, PYTHONHASHSEED=0, "
            f"bytecode cached: kunren {ours:,}, chaos {theirs:,}. A count does not depend on "
            "the load (two runs of the same code agree to about 0.1%); the time row above is "
            "the target, this one shows a change in kunren's own work through the noise"
        ],
    )


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
    with scratch("startup-pyc-") as folder:
        env = _cached_bytecode(folder)
        for args in commands.values():  # warm the page cache and .pyc files first
            _time(args, REPO, env)
        for _ in range(rounds):
            for name, args in commands.items():
                times[name].append(_time(args, REPO, env))
    base = statistics.median(times["baseline"])
    heavy = heavy_imports_of_help()
    rows = []
    for name, label in (("help", "kunren --help"), ("validate", "kunren validate scenarios/")):
        median = statistics.median(times[name])
        ratio = median / base
        details = [
            f"{label}: median of {rounds} runs {median * 1000:.0f} ms "
            f"(min {min(times[name]) * 1000:.0f} ms); "
            f"import click: {base * 1000:.0f} ms (min {min(times['baseline']) * 1000:.0f} ms); "
            "bytecode cached for both"
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
