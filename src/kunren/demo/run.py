"""`make demo`: one complete local drill on the embedded defaults, then the report.

The demo shop, Locust load with a spike, an HTTP fault and a frozen process, simulated people,
on a clock 40 times faster than real time (the 60-minute drill takes about 90 seconds).
Before it, the series' earlier quarters are rehearsed on the virtual clock (once: they are
kept in the drills folder), so the report's trend tells the story the tool is for,
"customers notified 60+ min → 41 min → 9 min", every point labelled for what it was.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kunren.cli import main as kunren_main

SPEED = "40"
DRILLS = Path("drills")


def demo_scenario() -> Path:
    local = Path("scenarios/demo-shop.yaml")
    if local.is_file():
        return local
    from importlib.resources import files

    return Path(str(files("kunren.scenarios") / "examples" / "demo-shop.yaml"))


def drills_root(args: list[str]) -> Path:
    """The ``--drills`` folder the demo's ``kunren run`` will use (default ``drills/``)."""
    for index, arg in enumerate(args):
        if arg == "--drills" and index + 1 < len(args):
            return Path(args[index + 1])
        if arg.startswith("--drills="):
            return Path(arg.split("=", 1)[1])
    return DRILLS


def main() -> None:
    from kunren.demo.history import build_history

    scenario = demo_scenario()
    extra = sys.argv[1:]
    for folder in build_history(scenario, drills_root(extra)):
        # the demo's entry point speaks to the user like the CLI it hands over to
        click.echo(f"earlier quarter rehearsed (virtual clock, simulated people): {folder}")
    args = ["run", str(scenario), "--speed", SPEED, "--yes", "--port", "0"]
    kunren_main(args + extra)


if __name__ == "__main__":
    main()
