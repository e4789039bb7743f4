"""The JSON Schema of the scenario format, for ``kunren schema`` and editors.

Pydantic writes a schema of the typed models, but the models are not the YAML people write: a
fault's kind-specific keys (``match``, ``respond``, ``signal``) sit beside ``id`` and ``at``
and are gathered into ``params`` only while loading, a probe names its kind by the one key it
carries (``http: {...}``), and durations are text (``5m``) that the models keep as seconds.
This module reshapes the generated schema into the written form and adds each installed
plugin's own parameter model, so an editor completes and checks ``match:`` under an
``http.fault`` exactly as ``kunren validate`` does.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, BeforeValidator
from pydantic.errors import PydanticInvalidForJsonSchema, PydanticUserError

from kunren import plugins
from kunren.durations import format_duration
from kunren.errors import PluginError
from kunren.scenarios.models import (
    _DURATION_SCHEMA,
    BUILTIN_MILESTONES,
    Fault,
    RunbookSpec,
    Scenario,
    own_keys,
)

JsonSchema = dict[str, Any]
"""A JSON Schema document: plain JSON, which no typed model describes better."""

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_ONE_OR_MANY_ROLES = {
    "InjectSpec": "to",
    "RunbookSpec": "roles",
    "MilestoneSpec": "roles",
    "Objective": "by",
    "Approval": "by",
}


def scenario_schema() -> JsonSchema:
    """The schema of a scenario file as written, with every installed plugin's parameters."""
    schema = Scenario.model_json_schema(by_alias=True)
    defs: dict[str, JsonSchema] = schema["$defs"]
    _fix_identifiers(schema, defs)
    _fix_role_lists(defs)
    _fix_service_command(defs)
    _fix_milestone_keys(schema, defs)
    _fix_simulated_person(defs)
    defs.pop("JsonValue", None)

    injectors = _plugin_params(plugins.INJECTORS, "injector", defs)
    _kind_keyed(defs["Fault"], injectors, set(own_keys(Fault)))
    _kind_keyed(defs["RunbookSpec"], injectors, set(own_keys(RunbookSpec)))
    _probe_keyed(defs["ProbeSpec"], _plugin_params(plugins.PROBES, "probe", defs))
    _channels(defs, _plugin_params(plugins.CHANNELS, "channel", defs))

    _durations_as_text(schema)
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "kunren scenario",
        "description": "A failure drill: faults, load, injects, probes, objectives (kunren).",
        **{k: v for k, v in schema.items() if k != "title"},
    }


# ---------------------------------------------------------------- plugin parameters


def _plugin_params(
    group: plugins.Group[plugins.Plugin], prefix: str, defs: dict[str, JsonSchema]
) -> dict[str, JsonSchema]:
    """Each loadable kind of ``group`` -> the schema of its parameters (defs merged in)."""
    found: dict[str, JsonSchema] = {}
    for kind in plugins.names(group):
        try:
            model: type[BaseModel] = plugins.load(group, kind).Params
        except PluginError:
            continue  # not loadable here: `kunren validate` reports it if a scenario uses it
        found[kind] = _model_schema(model, f"{prefix}.{kind}.", defs)
    return found


def _model_schema(model: type[BaseModel], prefix: str, defs: dict[str, JsonSchema]) -> JsonSchema:
    try:
        schema = model.model_json_schema(by_alias=True, ref_template=f"#/$defs/{prefix}{{model}}")
    except (PydanticInvalidForJsonSchema, PydanticUserError):
        return {"type": "object"}  # a parameter type with no JSON form: accept any mapping
    for name, sub in schema.pop("$defs", {}).items():
        defs[f"{prefix}{name}"] = sub
    for cls in _models_in(model):
        spec = schema if cls is model else defs.get(f"{prefix}{cls.__name__}")
        if spec is not None:
            _accept_one_for_many(cls, spec)
    return schema


def _models_in(model: type[BaseModel]) -> list[type[BaseModel]]:
    """``model`` and every model its fields use, however deeply nested."""
    found: list[type[BaseModel]] = []
    pending: list[object] = [model]
    while pending:
        tp = pending.pop()
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp in found:
                continue
            found.append(tp)
            pending += [info.annotation for info in tp.model_fields.values()]
        else:
            pending += list(typing.get_args(tp))
    return found


def _accept_one_for_many(model: type[BaseModel], spec: JsonSchema) -> None:
    """A list field with a before-validator (kunren's convention for "one or a list", as in
    ``expect_status: 200``) also accepts a single item; the generated schema cannot know."""
    props = spec.get("properties", {})
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in props:
            continue
        plain = _is_list(info.annotation) and _has_before_validator(info.metadata)
        if plain or _has_one_or_many(info.annotation):
            props[key] = _with_single_item(props[key])


def _has_before_validator(metadata: list[Any] | tuple[Any, ...]) -> bool:
    return any(isinstance(item, BeforeValidator) for item in metadata)


def _is_list(tp: object) -> bool:
    return typing.get_origin(tp) in (list, tuple)


def _has_one_or_many(tp: object) -> bool:
    if typing.get_origin(tp) is typing.Annotated:
        base, *metadata = typing.get_args(tp)
        return (_is_list(base) and _has_before_validator(metadata)) or _has_one_or_many(base)
    return any(_has_one_or_many(arg) for arg in typing.get_args(tp))


def _with_single_item(prop: JsonSchema) -> JsonSchema:
    arms = prop.get("anyOf")
    if isinstance(arms, list):
        singles = [arm["items"] for arm in arms if isinstance(arm, dict) and "items" in arm]
        return {**prop, "anyOf": [*arms, *singles]}
    if prop.get("type") == "array" and "items" in prop:
        outer = {k: v for k, v in prop.items() if k in ("title", "description", "default")}
        inner = {k: v for k, v in prop.items() if k not in outer}
        return {**outer, "anyOf": [inner, prop["items"]]}
    return prop


def _kind_keyed(spec: JsonSchema, kinds: dict[str, JsonSchema], common: set[str]) -> None:
    """A fault or runbook: common keys, plus the keys of the kind it names (if/then per kind)."""
    props: dict[str, JsonSchema] = spec["properties"]
    props.pop("params", None)
    props["kind"] = {**props["kind"], "enum": sorted(kinds)}
    spec["additionalProperties"] = True  # the kind's own keys; each `then` closes the set
    rules = []
    for kind, params in kinds.items():
        own = params.get("properties", {})
        rules.append(
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {
                    "properties": {**{k: True for k in sorted(common) if k in props}, **own},
                    "required": params.get("required", []),
                    "additionalProperties": False,
                },
            }
        )
    if rules:
        spec["allOf"] = rules


def _probe_keyed(spec: JsonSchema, kinds: dict[str, JsonSchema]) -> None:
    """A probe: ``id``, ``every`` and exactly one key naming its kind, holding its params."""
    props: dict[str, JsonSchema] = spec["properties"]
    props.pop("params", None)
    props.pop("kind", None)
    spec["required"] = [r for r in spec.get("required", []) if r not in ("kind", "params")]
    props.update(kinds)
    spec["additionalProperties"] = False
    if kinds:
        spec["oneOf"] = [{"required": [kind]} for kind in kinds]


def _channels(defs: dict[str, JsonSchema], kinds: dict[str, JsonSchema]) -> None:
    """A channel: its name, or ``{name: {params}}``, or ``{name: ..., params: {...}}``."""
    channel = {
        "anyOf": [
            {"type": "string", "enum": sorted(kinds)},
            {
                "type": "object",
                "properties": kinds,
                "additionalProperties": False,
                "minProperties": 1,
                "maxProperties": 1,
            },
            {"$ref": "#/$defs/ChannelSpec"},
        ]
    }
    defs["ChannelSpec"]["properties"]["params"] = {"type": "object"}
    defs["ChannelSpec"]["properties"]["name"]["enum"] = sorted(kinds)
    defs["Notifications"]["properties"]["channels"]["items"] = channel


# ---------------------------------------------------------------- the written form


def _fix_identifiers(schema: JsonSchema, defs: dict[str, JsonSchema]) -> None:
    for spec in (schema, defs["Fault"], defs["ProbeSpec"], defs["RunbookSpec"]):
        spec["properties"]["id"]["pattern"] = _ID_PATTERN


def _fix_role_lists(defs: dict[str, JsonSchema]) -> None:
    """Role lists accept one role as plain text: ``by: support``."""
    for model, key in _ONE_OR_MANY_ROLES.items():
        prop = defs[model]["properties"][key]
        description = prop.pop("title", None)
        defs[model]["properties"][key] = {
            "anyOf": [{"type": "string"}, prop],
            "title": description,
            "description": "A role, or a list of roles",
        }


def _fix_service_command(defs: dict[str, JsonSchema]) -> None:
    prop = defs["Service"]["properties"]["command"]
    defs["Service"]["properties"]["command"] = {
        "anyOf": [{"type": "string"}, prop],
        "description": "The command: a list of arguments, or one line split on spaces",
    }


def _fix_milestone_keys(schema: JsonSchema, defs: dict[str, JsonSchema]) -> None:
    """Objectives are keyed by milestone: list the built-ins so editors complete them."""
    objectives = schema["properties"]["objectives"]
    objective = objectives["additionalProperties"]
    objectives["properties"] = {name: objective for name in BUILTIN_MILESTONES}


def _fix_simulated_person(defs: dict[str, JsonSchema]) -> None:
    """A simulated person: role, person and milestone: time-range keys side by side."""
    person = defs["SimulatedPerson"]
    milestones = person["properties"]["milestones"]
    window = milestones["additionalProperties"]
    window["description"] = "When it is reached: one time (25m) or a range drawn from (6m-10m)"
    person["properties"].update({name: window for name in BUILTIN_MILESTONES})
    person["additionalProperties"] = window  # custom milestones declared under milestones:


def _durations_as_text(node: object) -> None:
    """Durations are written as text; pydantic writes their defaults as float seconds."""
    if isinstance(node, dict):
        if node.get("pattern") == _DURATION_SCHEMA["pattern"] and isinstance(
            node.get("default"), int | float
        ):
            node["default"] = format_duration(node["default"])
        for key, value in list(node.items()):
            if key == "anyOf" and isinstance(value, list):
                _lift_duration_default(node, value)
            _durations_as_text(value)
    elif isinstance(node, list):
        for item in node:
            _durations_as_text(item)


def _lift_duration_default(node: dict[str, Any], arms: list[Any]) -> None:
    is_duration = any(
        isinstance(arm, dict) and arm.get("pattern") == _DURATION_SCHEMA["pattern"] for arm in arms
    )
    if is_duration and isinstance(node.get("default"), int | float):
        node["default"] = format_duration(node["default"])
