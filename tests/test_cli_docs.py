"""Every command has help text and is documented in the README (the docs stay true)."""

from __future__ import annotations

from pathlib import Path

import click

from kunren.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "kunren") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix} {name}"
        found.append((full, command))
        if isinstance(command, click.Group):
            found += _commands(command, full)
    return found


def test_every_command_has_help() -> None:
    missing = [name for name, command in _commands(cli) if not (command.help or "").strip()]
    assert missing == []


def test_every_command_is_in_the_readme() -> None:
    missing = [
        name for name, _ in _commands(cli) if f"{name} " not in README and f"`{name}`" not in README
    ]
    assert missing == []


def test_every_option_of_run_is_in_the_readme() -> None:
    run = cli.commands["run"]
    options = [
        opt for param in run.params for opt in getattr(param, "opts", []) if opt.startswith("--")
    ]
    missing = [opt for opt in options if opt not in README]
    assert missing == []


def test_every_option_of_the_commands_a_facilitator_types_is_in_the_readme() -> None:
    missing = [
        f"{name} {opt}"
        for name in ("mark", "note", "amend", "log", "score", "report", "plugins")
        for param in cli.commands[name].params
        for opt in getattr(param, "opts", [])
        if opt.startswith("--") and opt not in README
    ]
    assert missing == []
