"""`make demo`: one complete local drill on the embedded defaults, then the report.

The demo shop, Locust load with a spike, an HTTP fault and a frozen process, simulated people,
on a clock 40 times faster than real time (the 60-minute drill takes about 90 seconds).
"""

from __future__ import annotations

import sys
from pathlib import Path

from kunren.cli import main as kunren_main

SPEED = "40"


def demo_scenario() -> Path:
    local = Path("scenarios/demo-shop.yaml")
    if local.is_file():
        return local
    from importlib.resources import files

    return Path(str(files("kunren.scenarios") / "examples" / "demo-shop.yaml"))


def main() -> None:
    scenario = demo_scenario()
    args = ["run", str(scenario), "--speed", SPEED, "--yes", "--port", "0"]
    kunren_main(args + sys.argv[1:])


if __name__ == "__main__":
    main()
