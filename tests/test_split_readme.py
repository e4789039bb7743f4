"""tools/split_readme.py moves the README's reference into docs/reference/ without losing a line,
and the tests that keep the docs true still pass on the result (run on a copy, never in place)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from tools.markdown_docs import headings

from tests.scenarios.test_docs import error_samples, sample, undocumented
from tests.test_cli_docs import docs_text, undocumented_commands, undocumented_run_options
from tests.test_docs_links import broken_links, markdown_files

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / "tools" / "split_readme.py"
NAV = "[kunren documentation](../README.md) › reference"


if "\n## Read on\n" in REPO.joinpath("README.md").read_text("utf-8"):
    pytest.skip(
        "README.md is split already: docs/reference/ holds the reference", allow_module_level=True
    )


def _copy(root: Path) -> Path:
    shutil.copy(REPO / "README.md", root / "README.md")
    for folder in ("docs", "examples"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _split(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), str(root)], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = _copy(tmp_path_factory.mktemp("split"))
    result = _split(root)
    assert result.returncode == 0, result.stderr
    return root


def _normal(line: str) -> str:
    """A line as a reader sees it, whatever level its heading and wherever its links point."""
    return re.sub(r"\]\([^()\s]+\)", "]()", re.sub(r"^#{1,6} ", "", line)).rstrip()


def _reference_lines(readme: str) -> list[str]:
    """The lines of the README's sections that move to a page (not the front door)."""
    from_tool = {"The two commands", "Contents"}  # kept in the README / replaced by docs/README.md
    lines = readme.splitlines()
    tops = [h for h in headings(readme) if h.level == 2]
    moved = []
    for index, heading in enumerate(tops):
        end = tops[index + 1].line if index + 1 < len(tops) else len(lines)
        if heading.text not in from_tool:
            moved += lines[heading.line : end]
    return moved


def _pages(root: Path) -> dict[str, list[str]]:
    pages = sorted((root / "docs" / "reference").glob("*.md"))
    return {path.name: path.read_text("utf-8").splitlines() for path in pages}


def test_every_line_of_the_reference_lands_in_exactly_one_page(split: Path) -> None:
    old = Counter(
        _normal(line) for line in _reference_lines(REPO.joinpath("README.md").read_text())
    )
    new: Counter[str] = Counter()
    for lines in _pages(split).values():
        assert lines[:2] == [NAV, ""]
        new.update(_normal(line) for line in lines[2:])
    del old[""], new[""]
    assert new == old
    assert sum(old.values()) > 1500  # the reference really moved, not an empty README


def test_each_section_moves_whole_to_one_page(split: Path) -> None:
    readme = REPO.joinpath("README.md").read_text("utf-8")
    pages = {name: "\n".join(map(_normal, lines)) for name, lines in _pages(split).items()}
    tops = [h for h in headings(readme) if h.level == 2][2:]  # after the front door
    lines = readme.splitlines()
    for index, heading in enumerate(tops):
        end = tops[index + 1].line if index + 1 < len(tops) else len(lines)
        block = "\n".join(map(_normal, lines[heading.line : end])).strip()
        holders = [name for name, text in pages.items() if block in text]
        assert len(holders) == 1, heading.text


def test_links_anchors_and_images_of_the_split_docs_resolve(split: Path) -> None:
    problems = [p for path in markdown_files(split) for p in broken_links(path, split)]
    assert problems == []
    running = (split / "docs/reference/running.md").read_text("utf-8")
    assert "[the drill record](record.md#the-drill-record)" in (
        split / "docs/reference/scenarios.md"
    ).read_text("utf-8")
    assert "#abort-revert-resume" in (split / "docs/guides/facilitator.md").read_text("utf-8")
    assert "](../reference/running.md#abort-revert-resume)" in (
        split / "docs/guides/facilitator.md"
    ).read_text("utf-8")
    assert "## Abort, revert, resume" in running.splitlines()  # was ###: moved up one level


def test_the_docs_tests_still_pass_on_the_split(split: Path) -> None:
    before, after = docs_text(REPO), docs_text(split)
    assert undocumented_commands(after) == []
    assert undocumented_run_options(after) == []
    assert undocumented(after) == []
    for command in ("kunren plan scenarios/demo-shop.yaml", "kunren plugins"):
        assert sample(command, after) == sample(command, before)
    assert error_samples(after) == error_samples(before)


def test_the_new_readme_is_a_short_front_door_into_docs(split: Path) -> None:
    readme = (split / "README.md").read_text("utf-8")
    assert len(readme.splitlines()) < 150
    titles = [h.text for h in headings(readme) if h.level == 2]
    assert titles == [
        "Two promises",
        "The two commands",
        "A five-minute tour",
        "Read on",
    ]
    for command in ("init", "validate", "plan", "run", "mark", "score", "report"):
        assert f"$ kunren {command} " in readme
    for page in _pages(split):
        assert f"](docs/reference/{page})" in readme
    assert "](docs/README.md)" in readme


def test_splitting_twice_is_refused(split: Path, tmp_path: Path) -> None:
    root = tmp_path / "again"
    shutil.copytree(split, root)
    result = _split(root)
    assert result.returncode == 2
    assert "split already" in result.stderr
    assert (root / "README.md").read_text("utf-8") == (split / "README.md").read_text("utf-8")


def test_a_section_without_a_page_stops_it_before_anything_is_written(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    readme = root / "README.md"
    text = readme.read_text("utf-8") + "\n## Something new\n\nText.\n"
    readme.write_text(text, "utf-8")
    result = _split(root)
    assert result.returncode == 2
    assert result.stderr == "Error: README sections without a page in PAGES: 'Something new'\n"
    assert readme.read_text("utf-8") == text
    assert not (root / "docs" / "reference").exists()
