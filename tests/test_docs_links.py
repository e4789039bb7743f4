"""Every relative link and image in the docs points at a file that exists, and every ``#anchor``
at a heading that exists: a reader who follows a link lands somewhere. No network: links with
a scheme (https:, mailto:) are left alone."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import unquote

import pytest
from tools.markdown_docs import Link, headings, is_external, links

REPO = Path(__file__).resolve().parents[1]


def markdown_files(root: Path) -> list[Path]:
    files = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    files += sorted((root / "examples").rglob("*.md"))
    return [path for path in files if path.is_file()]


def broken_links(path: Path, root: Path) -> list[str]:
    """``FILE:LINE: target: why`` for each link in ``path`` that leads nowhere."""
    problems = []
    for link in links(path.read_text(encoding="utf-8")):
        why = _why_broken(path, link, root)
        if why:
            problems.append(f"{path.relative_to(root)}:{link.line + 1}: {link.target}: {why}")
    return problems


def _why_broken(path: Path, link: Link, root: Path) -> str:
    if is_external(link.target):
        return ""
    file_part, _, anchor = link.target.partition("#")
    target = (path.parent / unquote(file_part)).resolve() if file_part else path
    if not target.exists():
        return "no such file"
    if root not in (target, *target.parents):
        return "outside the repository"
    if link.image and target.suffix.lower() not in (".png", ".jpg", ".jpeg", ".svg", ".gif"):
        return "not an image"
    if anchor and target.suffix == ".md" and unquote(anchor) not in anchors(target):
        return f"no heading #{anchor} in {target.relative_to(root)}"
    return ""


@cache
def anchors(path: Path) -> frozenset[str]:
    return frozenset(h.anchor for h in headings(path.read_text(encoding="utf-8")))


FILES = markdown_files(REPO)


def test_the_docs_tree_is_found() -> None:
    names = {str(path.relative_to(REPO)) for path in FILES}
    assert {"README.md", "docs/README.md", "docs/guides/support.ja.md"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_and_image_leads_somewhere(path: Path) -> None:
    assert broken_links(path, REPO) == []


def test_a_broken_link_a_missing_image_and_a_wrong_anchor_are_found(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A page\n\n## Its `second` part\n", "utf-8")
    (tmp_path / "README.md").write_text(
        "# Top\n\n"
        "[ok](docs/a.md#its-second-part) [ok too](#top) [web](https://example.com/x)\n\n"
        "[gone](docs/b.md)\n\n"
        "![shot](docs/images/missing.png)\n\n"
        "[bad anchor](docs/a.md#its-third-part)\n\n"
        "```\n[not a link](nowhere.md)\n```\n",
        "utf-8",
    )
    assert broken_links(tmp_path / "README.md", tmp_path) == [
        "README.md:5: docs/b.md: no such file",
        "README.md:7: docs/images/missing.png: no such file",
        "README.md:9: docs/a.md#its-third-part: no heading #its-third-part in docs/a.md",
    ]


def test_headings_get_githubs_anchors() -> None:
    text = "## `http.fault`: make one URL fail\n\n## Abort, revert\n\n## Abort, revert\n"
    assert [h.anchor for h in headings(text)] == [
        "httpfault-make-one-url-fail",
        "abort-revert",
        "abort-revert-1",
    ]
