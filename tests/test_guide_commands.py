"""Every ``$ kunren …`` command shown in the README, the guides and the reference names a real
command and only options that command has: a guide that tells a facilitator to type
``--allow-remote`` stays right when an option is renamed. (The commands were run when the
docs were written; this keeps the names.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from markdown_it import MarkdownIt

from kunren.cli import cli

REPO = Path(__file__).resolve().parents[1]
GUIDES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def shown_commands(text: str) -> list[list[str]]:
    """The argument lists of the ``$ kunren …`` lines in the code blocks of ``text``; a line
    with ``|`` or ``&&`` gives each kunren command in it."""
    found = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.type not in ("fence", "code_block"):
            continue
        for line in token.content.replace("\\\n", " ").splitlines():  # joined continuations
            line = line.strip()
            if not line.startswith("$ "):
                continue
            for part in re.split(r"\s*(?:\|\||&&|\|)\s*", line.removeprefix("$ ")):
                words = shlex.split(part, comments=True)
                if words[:1] == ["kunren"]:
                    found.append(words[1:])
    return found


def problems(args: list[str]) -> list[str]:
    """What is wrong with ``kunren ARGS`` as a command line: an unknown command or option."""
    group: click.Command = cli
    words = list(args)
    while isinstance(group, click.Group) and words and not words[0].startswith("-"):
        name = words.pop(0)
        if name not in group.commands:
            return [f"no command {name!r}"]
        group = group.commands[name]
    known = {opt for param in group.params for opt in [*param.opts, *param.secondary_opts]}
    known |= {"--help", "-h"}
    options = [word.split("=", 1)[0] for word in words if word.startswith("-")]
    return [f"{group.name}: no option {opt}" for opt in options if opt not in known]


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_every_command_in_the_guide_is_real(guide: Path) -> None:
    commands = shown_commands(guide.read_text(encoding="utf-8"))
    wrong = [(" ".join(args), p) for args in commands for p in problems(args)]
    assert wrong == []


def test_the_guides_show_commands_at_all() -> None:
    text = (REPO / "docs" / "guides" / "facilitator.md").read_text(encoding="utf-8")
    assert len(shown_commands(text)) >= 15


def test_a_renamed_option_or_command_is_found() -> None:
    text = "```console\n$ kunren run s.yaml --allow-remot && kunren mrak x\n```\n"
    assert [p for args in shown_commands(text) for p in problems(args)] == [
        "run: no option --allow-remot",
        "no command 'mrak'",
    ]
