"""Move the README's reference sections into docs/reference/, one page per area, losing nothing.

Why: the README grew into a 2,000-line reference that a new user cannot find their way in.
This script turns it into a short front door (what kunren is, the two commands, a five-minute
tour, links) and a docs/reference/ page per area, in one step that can be run again whenever
the README is regenerated from the other branches:

    .venv/bin/python tools/split_readme.py [ROOT]     # ROOT: the repository (default: here)

What it guarantees (tests/test_split_readme.py holds it):

- every line of every reference section lands in exactly one page, in order; only heading
  levels change (each page's sections move up one level: ``## Load`` becomes ``# Load``) and
  link targets are rewritten;
- links between sections (``#abort-revert-resume``) become links between pages
  (``running.md#abort-revert-resume``), relative paths are re-based (``docs/benchmarks.md``
  becomes ``../benchmarks.md``), and links from docs/**/*.md into ``README.md#…`` follow the
  section to its page;
- a top-level README section that is not in ``PAGES`` stops the script (exit code 2) before
  anything is written: a new section needs a page chosen for it, not a silent drop.
"""

# ruff: noqa: E501  (the front door's templates hold console output verbatim)
from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from tools.markdown_docs import Heading, code_lines, headings, is_external

# README "## " title -> its page in docs/reference/ (several sections may share a page).
# FRONT: kept in the new README as it is. DROPPED: replaced by docs/README.md (the index).
FRONT = "<front door>"
DROPPED = "<dropped>"
PAGES: dict[str, str] = {
    "The two commands": FRONT,
    "Contents": DROPPED,
    "A workspace": "workspace.md",
    "Exit codes": "workspace.md",
    "Scenarios": "scenarios.md",
    "Running a drill": "running.md",
    "The drill record": "record.md",
    "Local faults, probes and the demo shop": "faults.md",
    "Load (Locust)": "load.md",
    "AWS faults, the CloudWatch alarm probe and AWS FIS": "aws.md",
    "The participant page, the facilitator view and the alert intake": "page.md",
    "Customer notices": "notices.md",
    "Scores, reports and trends": "scores.md",
    "Plugins": "plugins.md",
    "Python API": "python-api.md",
    "Safety": "safety.md",
    "Safety: a drill never becomes the outage": "safety.md",
    "For support staff: sending the first notice / サポート担当の方へ: 最初のお知らせを送る": "notices.md",
    "Developing kunren": "developing.md",
    "Benchmarks": "developing.md",
}
REFERENCE = Path("docs/reference")
NAV = "[kunren documentation](../README.md) › reference"
LINK = re.compile(r"(\]\()([^()\s]+)(\))")


class SplitError(Exception):
    """The README cannot be split as it is (a section without a page)."""


@dataclass
class Section:
    title: str
    page: str
    lines: list[str]
    start: int  # 0-based line of its "## " heading in the README


@dataclass
class Split:
    preamble: list[str]
    sections: list[Section]
    # README anchor -> (page or "" for the new README, anchor on that page)
    anchors: dict[str, tuple[str, str]] = field(default_factory=dict)

    def pages(self) -> dict[str, list[Section]]:
        found: dict[str, list[Section]] = {}
        for section in self.sections:
            if section.page not in (FRONT, DROPPED):
                found.setdefault(section.page, []).append(section)
        return found


def parse(readme: str) -> Split:
    lines = readme.splitlines()
    tops = [h for h in headings(readme) if h.level == 2]
    if any(h.text == "Read on" for h in tops):
        raise SplitError("README.md is split already (it ends in 'Read on'); nothing to do")
    unknown = [h.text for h in tops if h.text not in PAGES]
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        raise SplitError(f"README sections without a page in PAGES: {names}")
    sections = []
    for index, heading in enumerate(tops):
        end = tops[index + 1].line if index + 1 < len(tops) else len(lines)
        body = lines[heading.line : end]
        while body and not body[-1].strip():
            body.pop()
        sections.append(Section(heading.text, PAGES[heading.text], body, heading.line))
    preamble = lines[: tops[0].line] if tops else lines
    while preamble and not preamble[-1].strip():
        preamble.pop()
    return Split(preamble, sections)


def demote(line: str) -> str:
    """``## Title`` -> ``# Title``: a page's sections move up one level."""
    return line[1:] if re.match(r"^#{2,6} ", line) else line


def page_text(sections: list[Section]) -> str:
    """The page, with headings moved up a level (links are rewritten afterwards)."""
    parts: list[str] = []
    for number, section in enumerate(sections):
        if number:
            parts.append("")
        code = code_lines("\n".join(section.lines))
        parts += [line if i in code else demote(line) for i, line in enumerate(section.lines)]
    return "\n".join(parts) + "\n"


def map_anchors(split: Split, readme: str, pages: dict[str, str]) -> None:
    """Each README heading's anchor -> where it lives now, by walking both in order."""
    old = [h for h in headings(readme) if h.level >= 2]
    by_section: dict[int, list[Heading]] = {}
    starts = [s.start for s in split.sections]
    for heading in old:
        owner = max(i for i, start in enumerate(starts) if start <= heading.line)
        by_section.setdefault(owner, []).append(heading)
    for page, text in pages.items():
        new = headings(text)
        owned = [h for i, s in enumerate(split.sections) if s.page == page for h in by_section[i]]
        if len(new) != len(owned):
            raise SplitError(f"{page}: {len(owned)} headings moved but {len(new)} found")
        for before, after in zip(owned, new, strict=True):
            split.anchors[before.anchor] = (page, after.anchor)
    for i, section in enumerate(split.sections):
        if section.page == FRONT:
            for heading in by_section[i]:
                split.anchors[heading.anchor] = ("", heading.anchor)


def rewrite_links(text: str, fix: Callable[[str], str]) -> str:
    """Apply ``fix`` to every link target outside code blocks."""
    code = code_lines(text)
    out = []
    for number, line in enumerate(text.split("\n")):
        if number not in code:
            line = LINK.sub(lambda m: m.group(1) + fix(m.group(2)) + m.group(3), line)
        out.append(line)
    return "\n".join(out)


def relative(target: Path, start: Path) -> str:
    return os.path.relpath(target, start).replace(os.sep, "/")


def rebase(target: str, page: Path) -> str:
    """A relative path written in the README (relative to the root) as seen from ``page``."""
    if is_external(target) or target.startswith("#"):
        return target
    path_part, hash_sign, anchor = target.partition("#")
    return relative(Path(path_part), page.parent) + hash_sign + anchor


def into_pages(split: Split, root: Path, source: Path) -> Callable[[str], str]:
    """For a docs file at ``source``: a link into ``README.md#anchor`` follows its section."""
    readme = (root / "README.md").resolve()

    def fix(target: str) -> str:
        if is_external(target) or target.startswith("#"):
            return target
        path_part, _, anchor = target.partition("#")
        if (root / source).parent.joinpath(path_part).resolve() != readme or not anchor:
            return target
        where = split.anchors.get(anchor)
        if where is None or where[0] == "":
            return target
        page, new_anchor = where
        return f"{relative(root / REFERENCE / page, (root / source).parent)}#{new_anchor}"

    return fix


def within(split: Split, here: str) -> Callable[[str], str]:
    """For text now on page ``here`` (a page name, or "" for the README): ``#anchor`` links."""

    def fix(target: str) -> str:
        if not target.startswith("#"):
            return target
        where = split.anchors.get(target[1:])
        if where is None:
            return target
        page, anchor = where
        if page == here:
            return f"#{anchor}"
        if here == "":
            return f"{REFERENCE.as_posix()}/{page}#{anchor}" if page else f"#{anchor}"
        return f"{page}#{anchor}" if page else f"../../README.md#{anchor}"

    return fix


def write(root: Path) -> list[Path]:
    """Split ``root``/README.md; returns the files written."""
    readme_path = root / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    split = parse(readme)
    raw = {page: page_text(sections) for page, sections in split.pages().items()}
    map_anchors(split, readme, raw)
    written = []
    (root / REFERENCE).mkdir(parents=True, exist_ok=True)
    for page, text in raw.items():
        path = REFERENCE / page
        text = rewrite_links(text, functools.partial(rebase, page=path))
        text = rewrite_links(text, within(split, page))
        (root / path).write_text(f"{NAV}\n\n{text}", encoding="utf-8")
        written.append(root / path)
    for path in sorted((root / "docs").rglob("*.md")):
        if path.parent == root / REFERENCE and path.name in raw:
            continue
        source = path.relative_to(root)
        text = path.read_text(encoding="utf-8")
        new = rewrite_links(text, into_pages(split, root, source))
        if new != text:
            path.write_text(new, encoding="utf-8")
            written.append(path)
    front = rewrite_links(front_door(split), within(split, ""))
    readme_path.write_text(front, encoding="utf-8")
    written.append(readme_path)
    return written


def front_door(split: Split) -> str:
    """The new README: the old preamble and front sections as they were, then the tour and
    the way into docs/."""
    parts = ["\n".join(split.preamble), PROMISES]
    parts += ["\n".join(s.lines) for s in split.sections if s.page == FRONT]
    parts += [DEMO_OUTPUT, TOUR, read_on(split)]
    return "\n\n".join(part.strip("\n") for part in parts) + "\n"


def read_on(split: Split) -> str:
    rows = []
    for page, sections in split.pages().items():
        titles = " · ".join(s.title for s in sections)
        rows.append(f"  - [{titles}](docs/reference/{page})")
    return READ_ON + "\n".join(rows)


PROMISES = """\
## Two promises

1. **A drill never becomes the outage.** Nothing is injected before the whole scenario
   validates; every fault records how to undo it before it acts; whatever ends the drill
   (its end, an abort, Ctrl-C, a stop condition, a crash followed by `kunren revert`), every
   fault is undone, and a revert that fails says so loudly (exit code 4).
2. **The numbers are the truth.** Every timing says what it measured, from which record, on
   which clock and by whom: a milestone nobody reached is "not reached in the 55 min
   observed", never a number that looks measured; a rehearsal with simulated people on a fast
   clock is labelled as one wherever it appears."""

DEMO_OUTPUT = """\
### What `make demo` prints

The live console, one line per recorded event, then where the record and the report are
(from a run on the virtual clock; `make demo` runs the same drill at ×40):

```
[05:00] #8    injecting search-500 (http.fault) on http://127.0.0.1:18080: any method /search: answer 500    (next: 06:58 sim-sre (sre): detected)
[05:00] #9    injected search-500 on http://127.0.0.1:18080: any method /search: answer 500    (next: 06:58 sim-sre (sre): detected)
[05:01] #10   probe search FAILED: status 500    (next: 06:58 sim-sre (sre): detected)
[06:58] #11   milestone detected by sim-sre (sre) [simulated]    (next: 08:00 inquiry: A customer writes: searching for tea shows an error page)
…
[30:00] #28   reverted shop-hangs: sent SIGCONT to pid 17397    (next: 30:00 load stage: 5 users (spawn 5/s))
…
[1:00:00] #34   drill ended: duration reached
Drill ended: duration reached
Record: drills/demo-shop-20261201-205741
Report: reports/demo-shop-20261201-205741.html
```

![The summary of a retro report](docs/images/guide-report-summary.en.png)"""

TOUR = """\
## A five-minute tour

```console
$ kunren init gameday && cd gameday                       # a workspace with three example scenarios
$ kunren validate scenarios/                              # every error of every file, FILE:LINE: KEY: message
$ kunren plan scenarios/tabletop-notify.yaml              # the drill's timeline; touches nothing
$ kunren run scenarios/tabletop-notify.yaml               # the drill, with the participant page and its join link
$ kunren mark detected --drill drills/<drill-id> --actor alice --role support   # from another terminal
$ kunren score drills/<drill-id>                          # timings against the objectives
$ kunren report drills/<drill-id>                         # the retro report, with the trend of the series
```

`kunren run … --clock virtual` runs the whole drill, with the scenario's simulated people, in
seconds: a rehearsal that shows the report you will get."""

READ_ON = """\
## Read on

- [The documentation index](docs/README.md)
- Guides: [facilitating a game day](docs/guides/facilitator.md) ·
  [taking part (support staff)](docs/guides/support.md) ·
  [訓練への参加ガイド](docs/guides/support.ja.md) ·
  [reading the report in the retro](docs/guides/retro.md) ([日本語](docs/guides/retro.ja.md)) ·
  [writing a plugin](docs/guides/plugin-authors.md)
- Reference:
"""


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else ".").resolve()
    try:
        written = write(root)
    except SplitError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path.relative_to(root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
