"""What a notice template says about itself, for the person choosing it in an outage.

A support person under pressure picks "調査中のお知らせ — 障害に気づいたらまず送る第一報",
not ``investigating``, and fills in "影響を受けている機能" with an example beside it, not
``affected_features``. So each template file may open with a jinja comment holding YAML:

    {#- kunren:
    title: {ja: 調査中のお知らせ, en: Investigating}
    when: {ja: 障害に気づいたらまず送る第一報, en: the first notice, as soon as it is noticed}
    variables:
      affected_features:
        ja: 影響を受けている機能
        en: What is affected
        help: {ja: お客様から見た機能名で, en: as customers call it}
        example: オンライン予約
    -#}

The comment renders to nothing, so the block never reaches customers. Every language file of
a template may carry it; the page merges them (a title in the file's own language is enough).
A block that is not valid is an error naming the file, line and key, like a scenario's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kunren.errors import InputError, Problem
from kunren.factories import new_dict

_BLOCK = re.compile(r"\{#-?\s*kunren:[ \t]*\n?(?P<yaml>.*?)-?#\}", re.DOTALL)

Texts = dict[str, str]  # language -> text


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VariableHelp(_Frozen):
    """How the page asks for one variable: a label, a hint and an example, per language."""

    label: Texts = Field(default_factory=new_dict)
    help: Texts = Field(default_factory=new_dict)
    example: Texts = Field(default_factory=new_dict)

    def text(self, field: str, lang: str) -> str:
        texts: Texts = getattr(self, field)
        return texts.get(lang) or texts.get("") or next(iter(texts.values()), "")


class TemplateMeta(_Frozen):
    title: Texts = Field(default_factory=new_dict)
    when: Texts = Field(default_factory=new_dict)
    variables: dict[str, VariableHelp] = Field(default_factory=new_dict)

    def text(self, field: str, lang: str, fallback: str = "") -> str:
        texts: Texts = getattr(self, field)
        return texts.get(lang) or texts.get("") or next(iter(texts.values()), fallback)

    def merged(self, other: TemplateMeta) -> TemplateMeta:
        """This file's texts, completed by another language file's."""
        variables = dict(other.variables)
        for name, help_ in self.variables.items():
            before = variables.get(name)
            if before is None:
                variables[name] = help_
                continue
            variables[name] = VariableHelp(
                label={**before.label, **help_.label},
                help={**before.help, **help_.help},
                example={**before.example, **help_.example},
            )
        return TemplateMeta(
            title={**other.title, **self.title},
            when={**other.when, **self.when},
            variables=variables,
        )


def _texts(value: object) -> dict[str, str] | object:
    """``"text"`` (any language) or ``{ja: …, en: …}``."""
    if isinstance(value, str | int | float):
        return {"": str(value)}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    return value


def _variable(value: object) -> object:
    """``{ja: label, en: label, help: …, example: …}`` as in SCENARIO.md, or a plain label."""
    if isinstance(value, str):
        return {"label": {"": value}}
    if not isinstance(value, Mapping):
        return value
    labels = {str(k): str(v) for k, v in value.items() if k not in ("help", "example", "label")}
    label = _texts(value.get("label"))
    if isinstance(label, dict):
        labels.update(label)
    shaped: dict[str, object] = {"label": labels}
    for key in ("help", "example"):
        if key in value:
            shaped[key] = _texts(value[key])
    return shaped


def read_meta(path: Path, text: str) -> TemplateMeta:
    """The ``kunren:`` block of one template file (empty when it has none)."""
    match = _BLOCK.search(text)
    if match is None:
        return TemplateMeta()
    line = text.count("\n", 0, match.start("yaml")) + 1
    try:
        data = yaml.safe_load(match.group("yaml")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = line + mark.line if mark is not None else line
        raise InputError([Problem(str(path), where, "kunren", f"not valid YAML: {exc}")]) from exc
    if not isinstance(data, dict):
        raise InputError([Problem(str(path), line, "kunren", "expected a mapping (title, when…)")])
    shaped = dict(data)
    for key in ("title", "when"):
        if key in shaped:
            shaped[key] = _texts(shaped[key])
    if isinstance(shaped.get("variables"), Mapping):
        shaped["variables"] = {str(k): _variable(v) for k, v in shaped["variables"].items()}
    try:
        return TemplateMeta.model_validate(shaped)
    except ValidationError as exc:
        problems = [
            Problem(
                str(path),
                line,
                "kunren." + ".".join(str(part) for part in error["loc"]),
                error["msg"],
            )
            for error in exc.errors()
        ]
        raise InputError(problems) from exc


def template_meta(files: Mapping[str, Path]) -> TemplateMeta:
    """One template's description, merged over its language files (its own language first)."""
    meta = TemplateMeta()
    for _, path in sorted(files.items()):
        meta = read_meta(path, path.read_text(encoding="utf-8")).merged(meta)
    return meta
