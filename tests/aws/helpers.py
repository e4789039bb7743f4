"""Helpers for the AWS tests: plain boto3 clients for set-up and checks, scenarios, requests."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

from kunren import plugins
from kunren.injectors.base import INJECTORS, AnyInjector, FaultRequest
from kunren.runtime.aws_session import RESOURCE_KEY, AwsSessions
from kunren.runtime.context import DrillContext, drill_context
from kunren.scenarios.models import Scenario

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
ALLOW = {"kunren:allow": "true"}
AMI = "ami-12c6146b"
SAFE: dict[str, Any] = {
    "require_tag": ALLOW,
    "max_targets": 2,
    "allowed_regions": [REGION],
    "allowed_accounts": [ACCOUNT],
}

T = TypeVar("T")


# boto3 takes ~0.3 s to build a session and its first client; reuse them across tests (the
# endpoint and credentials are the same for the whole test session).
_CLIENTS: dict[tuple[str, str, str], Any] = {}
_SESSIONS: dict[str, AwsSessions] = {}


def client(service: str, region: str = REGION) -> Any:
    """A plain boto3 client for setting up and checking resources (not kunren's sessions)."""
    import boto3
    from botocore.config import Config

    key = (service, region, os.environ["AWS_ENDPOINT_URL"])
    if key not in _CLIENTS:
        _CLIENTS[key] = boto3.session.Session().client(
            service, region_name=region, config=Config(retries={"max_attempts": 1})
        )
    return _CLIENTS[key]


def context(scn: Scenario, *, fresh: bool = False, **settings: Any) -> DrillContext:
    """A drill context; unless ``fresh``, it shares boto3 sessions with the other tests.

    ``fresh`` is for what must be shown from scratch: a revert in what could be a new process,
    other credentials, a profile.
    """
    ctx = drill_context(scn, **settings)
    if not fresh:
        endpoint = os.environ["AWS_ENDPOINT_URL"]
        ctx.resources[RESOURCE_KEY] = _SESSIONS.setdefault(endpoint, AwsSessions())
    return ctx


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(_bounded(coro))


async def _bounded(coro: Coroutine[Any, Any, T]) -> T:
    async with asyncio.timeout(30):
        return await coro


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def scenario(
    targets: dict[str, Any], *, safety: dict[str, Any] | None = SAFE, **extra: Any
) -> Scenario:
    data: dict[str, Any] = {
        "version": 1,
        "id": "aws-test",
        "title": "AWS faults",
        "duration": "30m",
        "targets": targets,
        **extra,
    }
    if safety is not None:
        data["safety"] = safety
    return Scenario.model_validate(data)


def request(
    scn: Scenario,
    kind: str,
    target: str | None,
    params: dict[str, Any] | None = None,
    fault_id: str = "f1",
) -> FaultRequest:
    cls = plugins.load(INJECTORS, kind)
    return FaultRequest(
        id=fault_id,
        kind=kind,
        target_name=target,
        target=scn.targets.get(target) if target else None,
        params=cls.Params.model_validate(params or {}),
    )


def injector(ctx: DrillContext, req: FaultRequest) -> AnyInjector:
    return plugins.load(INJECTORS, req.kind)(ctx, req)


def launch(count: int, tags: dict[str, str], region: str = REGION) -> list[str]:
    answer = client("ec2", region).run_instances(
        ImageId=AMI,
        MinCount=count,
        MaxCount=count,
        InstanceType="t3.micro",
        TagSpecifications=[{"ResourceType": "instance", "Tags": tag_list(tags)}],
    )
    return sorted(i["InstanceId"] for i in answer["Instances"])


def states(ids: list[str], region: str = REGION) -> dict[str, str]:
    answer = client("ec2", region).describe_instances(InstanceIds=ids)
    return {
        i["InstanceId"]: i["State"]["Name"] for r in answer["Reservations"] for i in r["Instances"]
    }
