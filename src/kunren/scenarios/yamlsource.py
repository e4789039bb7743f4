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
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, source, [Problem(file, 1, "", "the file is empty")]
        source.lines[()] = node.start_mark.line + 1
        data = _build(loader, node, (), source, problems)
    except yaml.MarkedYAMLError as exc:
        return None, source, [_syntax_problem(file, exc, len(text.splitlines()))]
    except yaml.YAMLError as exc:
        return None, source, [Problem(file, None, "", f"invalid YAML: {exc}")]
    finally:
        loader.dispose()
    return data, source, problems


def _build(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: KeyPath,
    source: SourceMap,
    problems: list[Problem],
) -> object:
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
                result[key] = _build(loader, value_node, key_path, source, problems)
                continue
            source.lines[key_path] = line
            result[key] = _build(loader, value_node, key_path, source, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            item_path = (*path, index)
            source.lines[item_path] = item.start_mark.line + 1
            items.append(_build(loader, item, item_path, source, problems))
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
