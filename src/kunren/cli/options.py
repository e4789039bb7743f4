"""Options several commands share, defined once so they read and behave the same everywhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

DRILLS_DIR = Path("drills")


def drills_option(
    help: str = "Folder holding the drill folders.",
    default: Path | None = DRILLS_DIR,
) -> Callable[[Any], Any]:
    """``--drills DIR``: where the drill folders are (or go)."""
    return click.option(
        "--drills",
        "drills_root",
        type=click.Path(path_type=Path, file_okay=False),
        default=default,
        show_default=default is not None,
        help=help,
    )
