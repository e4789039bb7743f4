"""YAML that remembers where everything came from.

Scenario errors must name the line (``web.yaml:14: faults[1].for: …``), but PyYAML's plain
loaders forget positions once they build Python objects. Here the node tree is walked by hand:
every mapping key and sequence item gets its line recorded under its key path, duplicate keys
are reported instead of silently overwritten, and YAML syntax errors become located problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kunren.errors import Problem

KeyPath = tuple[str | int, ...]


@dataclass
class SourceMap:
    """Line numbers (1-based) of every key path in one YAML document."""

    file: str
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, path: KeyPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return None

    def problem(self, path: KeyPath, message: str) -> Problem:
        return Problem(self.file, self.line(path), format_path(path), message)


MISSING = object()


def child(node: object, part: object) -> object:
    """``node[part]`` for a mapping key or list index that exists, else ``MISSING``."""
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return MISSING


def format_path(path: KeyPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_yaml(text: str, file: str) -> tuple[object, SourceMap, list[Problem]]:
    """Parse one YAML document; returns the data, its source map and any problems."""
    source = SourceMap(file)
    problems: list[Problem] = []
    loader: yaml.SafeLoader | None = None
    deep = _too_deep(text)
    if deep is not None:
        return (
            None,
            source,
            [Problem(file, deep, "", f"invalid YAML: nested more than {MAX_DEPTH} levels deep")],
        )
    try:
        loader = yaml.SafeLoader(text)  # rejects control characters itself
        node = loader.get_single_node()
        if node is None:
            return None, source, [Problem(file, 1, "", "the file is empty")]
        source.lines[()] = node.start_mark.line + 1
        data = _Builder(loader, source, problems).build(node, ())
    except yaml.MarkedYAMLError as exc:
        return None, source, [_syntax_problem(file, exc, len(text.splitlines()))]
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        char = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        return None, source, [Problem(file, line, "", f"invalid YAML: control character {char}")]
    except yaml.YAMLError as exc:
        return None, source, [Problem(file, None, "", f"invalid YAML: {exc}")]
    except _TooLarge as exc:
        return None, source, [Problem(file, exc.line, "", f"invalid YAML: {exc}")]
    except RecursionError:
        return None, source, [Problem(file, None, "", "invalid YAML: nested too deeply")]
    except ValueError as exc:  # e.g. an integer of thousands of digits
        what = "a number too long to read" if "digits" in str(exc) else str(exc)
        return None, source, [Problem(file, None, "", f"invalid YAML: {what}")]
    finally:
        if loader is not None:
            loader.dispose()
    return data, source, problems


MAX_VALUES = 100_000  # far beyond any scenario; stops alias bombs ("billion laughs")
MAX_DEPTH = 100  # flow nesting ([ [ [ …); PyYAML slows to seconds, then recurses out, far deeper


def _too_deep(text: str) -> int | None:
    """The line where ``[``/``{`` nesting passes MAX_DEPTH (outside quotes), if it does."""
    depth = 0
    quote = ""
    line = 1
    line_start = True
    for ch in text:
        if ch == "\n":
            line += 1
            quote = ""  # an apostrophe in plain text must not hide the rest of the file
            line_start = True
            continue
        if line_start and ch.isalnum():
            depth = 0  # a top-level key: every flow collection before it has ended
        line_start = False
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        elif ch in "]}":
            depth = max(0, depth - 1)
    return None


class _TooLarge(Exception):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


class _Builder:
    """Walks the node tree recording lines; refuses self-referring aliases and alias bombs."""

    def __init__(self, loader: yaml.SafeLoader, source: SourceMap, problems: list[Problem]):
        self.loader = loader
        self.source = source
        self.problems = problems
        self.values = 0
        self.open: set[int] = set()  # nodes being built: meeting one again is a cycle

    def build(self, node: yaml.Node, path: KeyPath) -> object:
        line = node.start_mark.line + 1
        self.values += 1
        if self.values > MAX_VALUES:
            raise _TooLarge(f"more than {MAX_VALUES:,} values (aliases expanding?)", line)
        if id(node) in self.open:
            raise _TooLarge("an alias refers to the block that contains it", line)
        self.open.add(id(node))
        try:
            return _build(self, node, path)
        finally:
            self.open.discard(id(node))


def _build(builder: _Builder, node: yaml.Node, path: KeyPath) -> object:
    loader, source, problems = builder.loader, builder.source, builder.problems
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[object, object] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_path = (*path, key if isinstance(key, str | int) else str(key))
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                problems.append(
                    Problem(source.file, line, format_path(path), f"key {key!r} must be text")
                )
                key = str(key)
            if key in result:
                first = source.lines.get(key_path)
                where = f" (first on line {first})" if first is not None else ""
                problems.append(
                    Problem(source.file, line, format_path(key_path), f"duplicate key{where}")
                )
                # the first occurrence keeps its line: it is the one a reader finds first
                result[key] = builder.build(value_node, key_path)
                continue
            source.lines[key_path] = line
            result[key] = builder.build(value_node, key_path)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            item_path = (*path, index)
            source.lines[item_path] = item.start_mark.line + 1
            items.append(builder.build(item, item_path))
        return items
    return loader.construct_object(node, deep=True)


def _syntax_problem(file: str, exc: yaml.MarkedYAMLError, last_line: int) -> Problem:
    """One located line for a YAML syntax error, naming where an unclosed block began."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    if line is not None and last_line and line > last_line:
        line = last_line  # "end of stream" is after the final newline: name the last line
    what = (exc.problem or exc.context or "not valid YAML").replace(
        "'<stream end>'", "the end of the file"
    )
    started = exc.context_mark.line + 1 if exc.context_mark is not None else None
    if exc.context and started is not None and started != line:
        block = exc.context.split(" ", 2)[-1].removeprefix("a ").removeprefix("an ")
        what = f"{what} (in the {block} that starts on line {started})"
    return Problem(file, line, "", f"invalid YAML: {what}")


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")
