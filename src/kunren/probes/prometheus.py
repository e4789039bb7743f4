"""The ``prometheus`` probe: ask the team's own monitoring whether the system is healthy.

Most teams already say "healthy" as a PromQL expression (an error ratio below 1%, no firing
``up == 0``). This probe runs one instant query (``GET /api/v1/query``) and holds its result
to ``expect``: every sample ``below`` or ``above`` a number, or the result ``empty`` /
``nonempty``. Like every probe it never raises for a failing system: an unreachable server, a
timeout, a query error or a sample out of bounds is a failed check with a short reason; and
like them it can drive a stop condition. Requests reuse the ``http`` probe's one-deadline
client, so no extra dependency is needed.
"""

from __future__ import annotations

import json
import math
from typing import Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kunren.factories import new_dict
from kunren.probes.base import Probe, ProbeResult
from kunren.probes.http import HttpProbeParams, failure_reason, fetch, http_url
from kunren.scenarios.models import Duration

MAX_SHOWN = 3


class Bounds(BaseModel):
    """``{below: 0.01}`` and/or ``{above: 0.99}``: every sample must be inside."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    below: float | None = None
    above: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Bounds:
        if self.below is None and self.above is None:
            raise ValueError("give below, above or both")
        return self


class PrometheusProbeParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str  # the Prometheus server, e.g. http://127.0.0.1:9090
    query: str = Field(min_length=1)
    expect: Literal["empty", "nonempty"] | Bounds = "nonempty"
    timeout: Duration = 5.0
    headers: dict[str, str] = Field(default_factory=new_dict)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value).rstrip("/")

    @field_validator("timeout")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("timeout must be longer than 0s")
        return value

    def request(self) -> HttpProbeParams:
        query = urlencode({"query": self.query, "timeout": f"{self.timeout:g}s"})
        return HttpProbeParams.model_validate(
            {
                "url": f"{self.url}/api/v1/query?{query}",
                "timeout": f"{self.timeout:g}s",
                "headers": {"Accept": "application/json", **self.headers},
                "expect_status": [200, 400, 422, 503],  # Prometheus's errors carry a reason
            }
        )


class _Sample(BaseModel):
    model_config = ConfigDict(extra="ignore")

    metric: dict[str, str] = Field(default_factory=new_dict)
    value: tuple[float, str] | None = None


class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore")

    resultType: str  # Prometheus spells it so
    result: list[_Sample] | tuple[float, str]


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: str
    data: _Data | None = None
    error: str = ""


def samples(reply: _Reply) -> list[tuple[str, float]]:
    """(series, value) for a vector, or one ("", value) for a scalar."""
    data = reply.data
    if data is None:
        return []
    if isinstance(data.result, tuple):
        return [("", float(data.result[1]))]
    found = []
    for sample in data.result:
        if sample.value is None:
            continue
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.metric.items()))
        found.append((f"{{{labels}}}" if labels else "{}", float(sample.value[1])))
    return found


def judge(
    expect: Literal["empty", "nonempty"] | Bounds, found: list[tuple[str, float]]
) -> ProbeResult:
    """The query's result held to ``expect``, with the offending samples named."""
    if expect == "empty":
        if not found:
            return ProbeResult(ok=True, detail="empty result")
        return ProbeResult(ok=False, detail=f"{len(found)} series: {_show(found)}")
    if expect == "nonempty":
        if found:
            return ProbeResult(ok=True, detail=f"{len(found)} series")
        return ProbeResult(ok=False, detail="empty result")
    assert isinstance(expect, Bounds)
    if not found:
        return ProbeResult(ok=False, detail="empty result: nothing to compare")
    bad = [
        (series, value)
        for series, value in found
        if math.isnan(value)
        or (expect.below is not None and not value < expect.below)
        or (expect.above is not None and not value > expect.above)
    ]
    if bad:
        return ProbeResult(ok=False, detail=f"{_show(bad)} out of {_bounds(expect)}")
    return ProbeResult(ok=True, detail=f"{_show(found)} {_bounds(expect)}")


def _bounds(expect: Bounds) -> str:
    parts = []
    if expect.above is not None:
        parts.append(f"> {expect.above:g}")
    if expect.below is not None:
        parts.append(f"< {expect.below:g}")
    return " and ".join(parts)


def _show(found: list[tuple[str, float]]) -> str:
    shown = ", ".join(f"{series} {value:g}".strip() for series, value in found[:MAX_SHOWN])
    more = f" (+{len(found) - MAX_SHOWN} more)" if len(found) > MAX_SHOWN else ""
    return shown + more


class PrometheusProbe(Probe[PrometheusProbeParams]):
    """A PromQL instant query; fail when its result breaks ``expect`` or cannot be had."""

    summary = "Prometheus query: every sample below/above a bound, or the result empty/nonempty."

    async def check(self) -> ProbeResult:
        import asyncio  # here: checking a scenario loads the probe, not asyncio

        from kunren.runtime.http1 import WireError

        params = self.params
        request = params.request()
        try:
            async with asyncio.timeout(params.timeout):
                status, body = await fetch(request)
        except (OSError, WireError, TimeoutError) as exc:
            return ProbeResult(ok=False, detail=failure_reason(exc, request))
        try:
            reply = _Reply.model_validate_json(body)
        except (ValidationError, json.JSONDecodeError):
            return ProbeResult(ok=False, detail=f"status {status}: not a Prometheus API reply")
        if reply.status != "success":
            return ProbeResult(ok=False, detail=f"query failed: {reply.error[:200] or status}")
        return judge(params.expect, samples(reply))
