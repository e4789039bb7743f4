"""Commands of this area (see kunren.cli for the error boundary)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
