"""Turning pydantic's validation errors into the located, plain-words problems users read.

Pydantic reports ``loc`` tuples against the validated data and its own wording ("Field
required"); users need the key path as they wrote it, the line, and a sentence that says what
to write instead, with a "did you mean" for a misspelt key.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from kunren.errors import Problem
from kunren.scenarios.yamlsource import MISSING, KeyPath, SourceMap, child


def problems_from(
    exc: ValidationError,
    data: object,
    source: SourceMap,
    prefix: KeyPath = (),
    model: type[BaseModel] | None = None,
    also_allowed: Iterable[str] = (),
) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = _data_path(tuple(error["loc"]), data)
        path = (*prefix, *loc)
        message = _message(error, loc, model, also_allowed)
        problems.append(source.problem(path, message))
    return problems


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or nothing when none is close."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _data_path(loc: tuple[Any, ...], data: object) -> KeyPath:
    """Keep the parts of ``loc`` that exist in the data (dropping union tags and the like)."""
    kept: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        found = child(node, part)
        if found is not MISSING:
            kept.append(part)
            node = found
        elif last and isinstance(part, str | int) and not _is_tag(part):
            kept.append(part)
    return tuple(kept)


def _is_tag(part: object) -> bool:
    return isinstance(part, str) and (
        part in {"params", "str", "int", "float", "bool", "list", "dict"}
        or "[" in part
        or part.startswith(("function-", "tagged-union", "lax-", "json-"))
    )


def _message(
    error: Any, loc: KeyPath, model: type[BaseModel] | None, also_allowed: Iterable[str]
) -> str:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "missing required key"
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        allowed = set(also_allowed) | (_allowed_keys(model, loc[:-1]) if model else set())
        return f"unknown key{did_you_mean(key, sorted(allowed))}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"expected a whole number, got {_got(value)}"
    if kind in ("float_parsing", "float_type"):
        return f"expected a number, got {_got(value)}"
    if kind in ("string_type",):
        return f"expected text, got {_got(value)}"
    if kind in ("bool_parsing", "bool_type"):
        return f"expected true or false, got {_got(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, got {_got(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping of keys, got {_got(value)}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}, got {_got(value)}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {
            "greater_than_equal": "at least",
            "greater_than": "more than",
            "less_than_equal": "at most",
            "less_than": "less than",
        }[kind]
        limit = next(iter(ctx.values()), "?")
        return f"must be {words} {limit}, got {_got(value)}"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s)"
    msg = _render_repr_fields(str(error["msg"]), ctx)
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    return msg[:1].lower() + msg[1:] if msg[:2] != msg[:2].upper() else msg


def _render_repr_fields(msg: str, ctx: dict[str, Any]) -> str:
    """Fill ``{name!r}`` placeholders, which pydantic leaves as they are in custom messages."""
    for name, value in ctx.items():
        msg = msg.replace(f"{{{name}!r}}", repr(value))
    return msg


def _got(value: object) -> str:
    """What was written instead, short: containers by their shape, values as written."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "nothing (null)"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _allowed_keys(model: type[BaseModel], loc: KeyPath) -> set[str]:
    """The keys a mapping at ``loc`` (inside ``model``) accepts, for "did you mean"."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return set()
    current = _unwrap_model(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return {f.alias or name for name, f in current.model_fields.items()} - {"params"}
    return set()


def _step(current: Any, part: str | int) -> Any:
    current = _unwrap_model(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        for name, info in current.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return None
    origin = typing.get_origin(current)
    args = typing.get_args(current)
    if origin in (list, tuple) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def _unwrap_model(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap_model(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        for arm in typing.get_args(tp):
            arm = _unwrap_model(arm)
            if isinstance(arm, type) and issubclass(arm, BaseModel):
                return arm
            if typing.get_origin(arm) in (list, dict):
                return arm
    return tp
