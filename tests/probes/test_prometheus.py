"""The prometheus probe's judgement of a query result, and its parameters."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kunren.probes.prometheus import Bounds, PrometheusProbeParams, _Reply, judge, samples

VECTOR = (
    b'{"status":"success","data":{"resultType":"vector","result":['
    b'{"metric":{"instance":"a:1","job":"shop"},"value":[1700000000.1,"0.02"]},'
    b'{"metric":{"instance":"b:1","job":"shop"},"value":[1700000000.1,"0.001"]}]}}'
)


def test_every_sample_must_be_inside_the_bounds_and_the_offenders_are_named() -> None:
    found = samples(_Reply.model_validate_json(VECTOR))
    result = judge(Bounds(below=0.01), found)
    assert not result.ok
    assert result.detail == '{instance="a:1",job="shop"} 0.02 out of < 0.01'
    assert judge(Bounds(below=0.5), found).ok
    assert not judge(Bounds(above=0.01), found).ok


def test_empty_and_nonempty() -> None:
    found = samples(_Reply.model_validate_json(VECTOR))
    assert not judge("empty", found).ok and judge("nonempty", found).ok
    assert judge("empty", []).ok and not judge("nonempty", []).ok
    assert judge(Bounds(below=1), []).detail == "empty result: nothing to compare"


def test_a_scalar_result_is_one_sample() -> None:
    scalar = b'{"status":"success","data":{"resultType":"scalar","result":[1700000000,"3"]}}'
    assert samples(_Reply.model_validate_json(scalar)) == [("", 3.0)]


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValidationError, match="give below, above or both"):
        PrometheusProbeParams.model_validate(
            {"url": "http://127.0.0.1:9090", "query": "up", "expect": {}}
        )
    with pytest.raises(ValidationError, match="expected an http"):
        PrometheusProbeParams.model_validate({"url": "127.0.0.1:9090", "query": "up"})
    params = PrometheusProbeParams.model_validate(
        {"url": "http://127.0.0.1:9090/", "query": 'up{job="shop"} == 0', "timeout": "2s"}
    )
    assert params.request().url == (
        "http://127.0.0.1:9090/api/v1/query?query=up%7Bjob%3D%22shop%22%7D+%3D%3D+0&timeout=2s"
    )
