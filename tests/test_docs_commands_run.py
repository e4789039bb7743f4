"""Every console block in the README and docs/ is either run here or marked illustrative, so
the commands a reader copies work (docs/README.md, "About the examples", is the convention).

A console block is a ```console fence, any code block with a line starting ``$ ``, or a
```sh (bash, shell) fence, whose every line is a command. It is
marked illustrative by ``<!-- illustrative: why -->`` on the line before its fence. Every
other block is run: in a fresh workspace made by ``kunren init`` in tmp_path, its ``$`` lines
in order, each ``kunren …`` in its own ``python -m kunren`` with a tmp HOME and a timeout.
``cd DIR`` changes the folder of the commands after it and ``A && B`` runs B only if A
succeeded, as in a shell; a command must exit 0 unless the block shows ``$ echo $?`` and the
code on the next line; ``<drill-id>`` is the most recent drill in ./drills.
Output lines are the reader's, not checked here (they may be shortened with ``…``)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
ILLUSTRATIVE = re.compile(r"^<!--\s*illustrative:\s*(?P<why>.*?)\s*-->\s*$")
SCRIPT = {"sh", "bash", "shell"}  # fences of commands only, no prompt and no output
DRILL_ID = "<drill-id>"
DRILL_WORD = "__drill_id__"  # <drill-id> while the line is split: its < > are no redirection
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Command:
    """One ``$`` line: its ``&&``-joined parts (argument lists) and the exit code the block
    expects of its last part."""

    line: str
    parts: tuple[tuple[str, ...], ...]
    expect_exit: int


@dataclass(frozen=True)
class Block:
    """A console block of a doc: where it is, why it is illustrative (empty if it is run),
    and its ``$`` lines as written."""

    where: str
    illustrative: str
    lines: tuple[str, ...]


def console_blocks(path: Path) -> list[Block]:
    """The console blocks of ``path``, each with the reason of its illustrative marker."""
    text = path.read_text(encoding="utf-8")
    source = text.splitlines()
    name = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name
    found = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.type not in ("fence", "code_block") or token.map is None:
            continue
        lines = token.content.splitlines()
        shown = any(ln.startswith("$ ") for ln in lines)
        info = token.info.strip()
        if info in SCRIPT and not shown:
            lines = as_typed(lines)
        elif info != "console" and not shown:
            continue
        start = token.map[0]
        before = ILLUSTRATIVE.match(source[start - 1].strip()) if start > 0 else None
        why = before.group("why") if before else ""
        found.append(Block(f"{name}:{start + 1}", why, tuple(lines)))
    return found


def as_typed(script: list[str]) -> list[str]:
    """A ```sh block is all commands, without prompts: its lines as ``$`` lines (a line
    continued with ``\\`` stays part of the one before)."""
    typed, continued = [], False
    for line in script:
        prompt = not (continued or not line.strip() or line.lstrip().startswith("#"))
        typed.append(f"$ {line}" if prompt else line)
        continued = line.endswith("\\")
    return typed


def commands(block: Block) -> list[Command]:
    """The commands of a block to run; a ``$ echo $?`` line with a code after it sets the
    exit code expected of the command before it. Raises ValueError for what a reader's shell
    would do that this runner does not (pipes, redirections, other programs)."""
    found: list[Command] = []
    lines = list(block.lines)
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.startswith("$ "):
            continue
        while line.endswith("\\") and index < len(lines):  # a continued line
            line = line[:-1] + " " + lines[index].strip()
            index += 1
        command = line.removeprefix("$ ").strip()
        if command == "echo $?":
            code = lines[index].strip() if index < len(lines) else ""
            if not found or not code.isdigit():
                raise ValueError(
                    f"{block.where}: `echo $?` needs a command before it and a code after it"
                )
            last = found.pop()
            found.append(Command(last.line, last.parts, int(code)))
            index += 1
            continue
        found.append(Command(command, split_parts(block.where, command), 0))
    return found


def split_parts(where: str, command: str) -> tuple[tuple[str, ...], ...]:
    """``A && B`` as ``(A, B)``; each part must be ``kunren …`` or ``cd DIR``."""
    lexer = shlex.shlex(command.replace(DRILL_ID, DRILL_WORD), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    parts: list[list[str]] = [[]]
    for word in lexer:
        if word == "&&":
            parts.append([])
        elif word and set(word) <= set("();<>|&"):
            raise ValueError(
                f"{where}: {command!r}: {word!r} is not run here; mark it illustrative"
            )
        else:
            parts[-1].append(word)
    for part in parts:
        if not (part[:1] == ["kunren"] or (part[:1] == ["cd"] and len(part) == 2)):
            shown = " ".join(part) or "(nothing)"
            raise ValueError(f"{where}: {shown!r} is not a kunren command; mark it illustrative")
    return tuple(tuple(part) for part in parts)


def latest_drill(cwd: Path) -> str:
    """The name of the most recently written drill folder in ./drills (of a ``cd`` too)."""
    folder = cwd / "drills"
    drills = (
        [p for p in folder.iterdir() if (p / "events.jsonl").is_file()] if folder.is_dir() else []
    )
    if not drills:
        raise AssertionError(f"{DRILL_ID} is used before any drill ran in {cwd}")
    return max(drills, key=lambda p: (p / "events.jsonl").stat().st_mtime_ns).name


def kunren(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """``kunren ARGS`` as a reader runs it, in its own process, bounded in time."""
    # No AWS credentials or kunren settings of this machine: a doc command touches no cloud.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUNREN_", "AWS_"))}
    env |= {"HOME": str(home), "COLUMNS": "120", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "kunren", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def run_block(block: Block, tmp_path: Path) -> list[str]:
    """Runs the block in a fresh workspace: what went wrong at the first command that did not
    exit as the block says (nothing if every one did)."""
    home = tmp_path / "home"
    home.mkdir(parents=True)
    made = kunren(["init", "ws"], tmp_path, home)
    assert made.returncode == 0, made.stderr
    cwd = tmp_path / "ws"
    for command in commands(block):
        for number, part in enumerate(command.parts, start=1):
            expect = command.expect_exit if number == len(command.parts) else 0
            if part[0] == "cd":
                cwd = cwd / part[1]
                if not cwd.is_dir():
                    return [f"{block.where}: $ {command.line}: no folder {part[1]}"]
                continue
            args = [
                a.replace(DRILL_WORD, latest_drill(cwd)) if DRILL_WORD in a else a for a in part[1:]
            ]
            done = kunren(args, cwd, home)
            if done.returncode != expect:
                return [
                    f"{block.where}: $ {command.line}: exit {done.returncode}, expected {expect}\n"
                    f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
                ]
    return []


ALL_BLOCKS = [block for doc in DOCS for block in console_blocks(doc)]
RUN = [block for block in ALL_BLOCKS if not block.illustrative]


@pytest.mark.parametrize("block", RUN, ids=lambda b: b.where)
def test_the_commands_of_the_block_run(block: Block, tmp_path: Path) -> None:
    assert run_block(block, tmp_path) == []


def test_every_block_is_run_or_says_why_not() -> None:
    unmarked_unrunnable = []
    for block in RUN:
        try:
            commands(block)
        except ValueError as error:
            unmarked_unrunnable.append(str(error))
    assert unmarked_unrunnable == []
    empty = [
        doc.name for doc in DOCS if re.search(r"<!--\s*illustrative:\s*-->", doc.read_text("utf-8"))
    ]
    assert empty == []  # a marker says why the block is not run


def test_the_docs_run_a_good_part_of_their_blocks() -> None:
    # Marking every block illustrative would make the run test pass by running nothing.
    assert len(ALL_BLOCKS) >= 40
    assert len(RUN) >= 10


def test_a_marker_needs_a_reason_and_the_line_just_before_the_fence(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "<!-- illustrative: needs AWS -->\n```console\n$ kunren plan aws.yaml --resolve\n```\n\n"
        "<!-- illustrative: -->\n```console\n$ kunren plugins\n```\n\n"
        "<!-- illustrative: too far -->\n\n```console\n$ kunren plugins\n```\n\n"
        "```\n$ make demo\n```\n\n"
        "```sh\n# a comment\nkunren plan a.yaml \\\n  --resolve\n```\n\n```yaml\nid: x\n```\n",
        encoding="utf-8",
    )
    assert [(b.where, b.illustrative) for b in console_blocks(doc)] == [
        ("doc.md:2", "needs AWS"),
        ("doc.md:7", ""),
        ("doc.md:13", ""),
        ("doc.md:17", ""),
        ("doc.md:21", ""),
    ]
    (script,) = [commands(b) for b in console_blocks(doc) if b.where == "doc.md:21"]
    assert script == [
        Command("kunren plan a.yaml  --resolve", (("kunren", "plan", "a.yaml", "--resolve"),), 0)
    ]


def test_what_the_runner_does_not_run_is_refused() -> None:
    def refused(line: str) -> str:
        with pytest.raises(ValueError) as caught:
            commands(Block("doc.md:1", "", (f"$ {line}",)))
        return str(caught.value)

    assert "'make demo' is not a kunren command" in refused("make demo")
    assert "'|' is not run here" in refused("kunren plugins | grep example")
    assert "'>' is not run here" in refused("kunren score d --check > /dev/null")
    assert "'echo hi' is not a kunren command" in refused("kunren plugins && echo hi")
    shown = Block("doc.md:1", "", ("$ kunren init gameday && cd gameday  # a comment", "output"))
    assert commands(shown) == [
        Command(
            "kunren init gameday && cd gameday  # a comment",
            (("kunren", "init", "gameday"), ("cd", "gameday")),
            0,
        )
    ]


def test_a_failing_command_an_exit_code_and_the_latest_drill(tmp_path: Path) -> None:
    block = Block(
        "doc.md:1",
        "",
        (
            "$ kunren init gameday && cd gameday",
            "$ kunren run scenarios/tabletop-notify.yaml --clock virtual -q",
            "Drill ended: duration reached",
            f"$ kunren score drills/{DRILL_ID}",
            "$ kunren validate no-such.yaml",
            "$ echo $?",
            "2",
        ),
    )
    assert commands(block)[-1].expect_exit == 2
    assert run_block(block, tmp_path) == []
    wrong = Block("doc.md:9", "", ("$ kunren validate no-such.yaml",))
    (failed,) = run_block(wrong, tmp_path / "again")
    assert failed.startswith("doc.md:9: $ kunren validate no-such.yaml: exit 2, expected 0")
