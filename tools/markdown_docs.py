"""What kunren's docs tooling needs to know about a Markdown file: its headings and its links.

Used by ``tests/test_docs_links.py``, which checks that every link and anchor resolves.
Parsing is markdown-it-py's (CommonMark with tables),
not regular expressions: a ``# comment`` inside a fenced YAML block is not a heading, and a
``[x](y)`` inside code is not a link.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark").enable("table")


@dataclass(frozen=True)
class Heading:
    level: int
    text: str  # as a reader sees it: code spans without backticks, links as their text
    line: int  # 0-based line of the heading in the file
    anchor: str  # GitHub's id for it, made unique within the file


@dataclass(frozen=True)
class Link:
    target: str
    line: int  # 0-based line of the block holding it
    image: bool


def slug(text: str) -> str:
    """GitHub's heading id: lower case, punctuation dropped, spaces become hyphens."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def _plain(inline: Token) -> str:
    return "".join(
        child.content for child in inline.children or [] if child.type in ("text", "code_inline")
    )


def headings(text: str) -> list[Heading]:
    tokens = _PARSER.parse(text)
    seen: dict[str, int] = {}
    found = []
    for index, token in enumerate(tokens):
        if token.type != "heading_open" or token.map is None:
            continue
        plain = _plain(tokens[index + 1])
        base = slug(plain)
        count = seen.get(base, 0)
        seen[base] = count + 1
        anchor = base if count == 0 else f"{base}-{count}"
        found.append(Heading(int(token.tag[1]), plain, token.map[0], anchor))
    return found


def links(text: str) -> Iterator[Link]:
    """Every link and image target in ``text``, outside code."""
    line = 0
    for token in _PARSER.parse(text):
        if token.map is not None:
            line = token.map[0]
        for child in token.children or []:
            if child.type == "link_open":
                yield Link(str(child.attrs.get("href", "")), line, image=False)
            elif child.type == "image":
                yield Link(str(child.attrs.get("src", "")), line, image=True)


def is_external(target: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE))
