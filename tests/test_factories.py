"""Pydantic fields take their default factories from ``kunren.factories``, never a builtin.

Pydantic reads a default factory's signature when it builds the model; for ``list`` that is a
text signature parsed by the tokenizer, about 80 µs a field, and a tiny
``kunren run`` builds 83 such fields (docs/benchmarks.md, ninth round). Stdlib
``dataclasses.field`` does not look, so only ``Field(...)`` calls are checked.
"""

from __future__ import annotations

import ast
import builtins
import inspect
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from kunren import factories

SRC = Path(__file__).resolve().parents[1] / "src" / "kunren"


def builtin_factories(source: str) -> list[tuple[int, str]]:
    """(line, name) of each ``Field(default_factory=<builtin>)`` in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        callee = node.func
        name = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
        if name != "Field":
            continue
        for keyword in node.keywords:
            value = keyword.value
            if (
                keyword.arg == "default_factory"
                and isinstance(value, ast.Name)
                and isinstance(getattr(builtins, value.id, None), type)
            ):
                found.append((node.lineno, value.id))
    return found


def test_no_pydantic_field_defaults_to_a_builtin_factory() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{line}: Field(default_factory={name})"
        for path in sorted(SRC.rglob("*.py"))
        for line, name in builtin_factories(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "use kunren.factories.new_list / new_dict:\n" + "\n".join(offenders)


def test_the_check_finds_a_builtin_factory_and_passes_a_plain_function() -> None:
    source = (
        "class A(BaseModel):\n"
        "    x: list[int] = Field(default_factory=list)\n"
        "    y: dict[str, int] = pydantic.Field(description='d', default_factory=dict)\n"
        "    z: list[int] = Field(default_factory=new_list)\n"
        "    w: list[int] = field(default_factory=list)\n"
    )
    assert builtin_factories(source) == [(2, "list"), (3, "dict")]


@pytest.mark.parametrize("factory", [factories.new_list, factories.new_dict])
def test_a_factory_gives_a_new_empty_value_each_time(factory: object) -> None:
    assert callable(factory)
    first, second = factory(), factory()
    assert first == type(first)() and first is not second
    # what pydantic asks of it: a signature without the builtin's text-signature parsing
    assert list(inspect.signature(factory).parameters) == []


def test_models_share_no_default_between_instances() -> None:
    class Holder(BaseModel):
        items: list[int] = Field(default_factory=factories.new_list)
        names: dict[str, int] = Field(default_factory=factories.new_dict)

    one, two = Holder(), Holder()
    one.items.append(1)
    one.names["a"] = 1
    assert two.items == [] and two.names == {}
