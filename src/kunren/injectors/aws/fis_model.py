"""Checks a request against botocore's own model of an AWS API, offline.

``kunren export fis`` promises a template that ``aws fis create-experiment-template`` accepts.
botocore ships the FIS service model; its ``ParamValidator`` checks names, types and required
members, and this module adds the constraints it leaves to the server (maximum lengths and
counts, patterns, enums), so a bad template is caught here rather than in the AWS console.
"""

from __future__ import annotations

import re
from typing import Any

from kunren.errors import KunrenError


def _constraints(value: object, shape: Any, path: str) -> list[str]:
    meta = shape.metadata
    problems: list[str] = []
    if shape.type_name == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"{path}: longer than {meta['max']} characters")
        if "min" in meta and len(value) < meta["min"]:
            problems.append(f"{path}: shorter than {meta['min']} characters")
        pattern = meta.get("pattern")
        if pattern and _python_pattern(pattern) and not re.fullmatch(pattern, value):
            problems.append(f"{path}: {value!r} does not match {pattern}")
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {', '.join(shape.enum)}")
    elif shape.type_name == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"{path}: more than {meta['max']} items")
        for index, item in enumerate(value):
            problems += _constraints(item, shape.member, f"{path}[{index}]")
    elif shape.type_name == "map" and isinstance(value, dict):
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"{path}: more than {meta['max']} entries")
        for key, item in value.items():
            problems += _constraints(key, shape.key, f"{path} key {key!r}")
            problems += _constraints(item, shape.value, f"{path}.{key}")
    elif shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                problems += _constraints(value[name], member, f"{path}.{name}" if path else name)
    return problems


def _python_pattern(pattern: str) -> bool:
    """Service-model patterns are Java regexes; check only those Python reads the same way."""
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def validate_request(service: str, shape_name: str, params: dict[str, Any]) -> None:
    """Raise ``KunrenError`` listing every way ``params`` breaks ``service``'s ``shape_name``."""
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model(service)
    shape = model.shape_for(shape_name)
    problems: list[str] = []
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        problems += [line.strip() for line in report.generate_report().splitlines() if line.strip()]
    problems += _constraints(params, shape, "")
    if problems:
        raise KunrenError(
            f"the {service} {shape_name} does not match botocore's model: " + "; ".join(problems)
        )
