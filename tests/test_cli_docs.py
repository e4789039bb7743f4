"""Every command has help text and is documented, in the README or the docs/ tree (the
reference lives in docs/reference/ since the README was split, so the checks read both)."""

from __future__ import annotations

from pathlib import Path

import click

from kunren.cli import cli

REPO = Path(__file__).parent.parent


def docs_text(root: Path) -> str:
    """README.md and every page under docs/, as one text."""
    paths = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    return "\n".join(path.read_text(encoding="utf-8") for path in paths if path.is_file())


def _commands(group: click.Group, prefix: str = "kunren") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix} {name}"
        found.append((full, command))
        if isinstance(command, click.Group):
            found += _commands(command, full)
    return found


def undocumented_commands(docs: str) -> list[str]:
    return [
        name for name, _ in _commands(cli) if f"{name} " not in docs and f"`{name}`" not in docs
    ]


def undocumented_run_options(docs: str) -> list[str]:
    run = cli.commands["run"]
    options = [
        opt for param in run.params for opt in getattr(param, "opts", []) if opt.startswith("--")
    ]
    return [opt for opt in options if opt not in docs]


def test_every_command_has_help() -> None:
    missing = [name for name, command in _commands(cli) if not (command.help or "").strip()]
    assert missing == []


def test_every_command_is_in_the_docs() -> None:
    assert undocumented_commands(docs_text(REPO)) == []


def test_every_option_of_run_is_in_the_docs() -> None:
    assert undocumented_run_options(docs_text(REPO)) == []


def test_every_option_of_the_commands_a_facilitator_types_is_in_the_docs() -> None:
    docs = docs_text(REPO)
    missing = [
        f"{name} {opt}"
        for name in ("mark", "note", "amend", "log", "score", "report", "plugins")
        for param in cli.commands[name].params
        for opt in getattr(param, "opts", [])
        if opt.startswith("--") and opt not in docs
    ]
    assert missing == []


def test_the_checks_can_fail() -> None:
    assert "kunren run" in undocumented_commands("kunren validate ")
    assert "--dry-run" in undocumented_run_options("--speed --clock")
