"""One set of boto3 sessions per drill, kept in ``ctx.resources``, never in module state.

Credentials and endpoints come the AWS way: the default credential chain, a profile from the
target's ``profile:`` or ``--profile`` (``ctx.profile``), the target's ``region:`` or the
profile's default, and ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` honoured by boto3
itself (that is how the tests point kunren at moto); a plugin may also name an endpoint itself
(the SNS channel's ``endpoint_url:``). boto3 blocks, so every call runs in a worker
thread; clients are created under a lock because a boto3 Session is not thread-safe, while the
clients it makes are.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import JsonValue

from kunren.errors import InjectionError, KunrenError, UsageError
from kunren.runtime.aws_errors import is_botocore_error, translate
from kunren.scenarios.models import AwsTarget

if TYPE_CHECKING:
    from kunren.runtime.context import DrillContext  # annotations only: no clock, no asyncio

RESOURCE_KEY = "kunren.aws.sessions"
_T = TypeVar("_T")

AwsResponse = dict[str, Any]
"""A boto3 response, read by the module that asked for it and nowhere else."""


@dataclass(frozen=True)
class AwsScope:
    """Where calls go: a profile (None: the default chain), a region (None: its default) and
    an endpoint (None: boto3's own, which honours ``AWS_ENDPOINT_URL_<SERVICE>``)."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None

    def to_handle(self) -> dict[str, JsonValue]:
        handle: dict[str, JsonValue] = {"profile": self.profile, "region": self.region}
        if self.endpoint_url is not None:
            handle["endpoint_url"] = self.endpoint_url
        return handle

    @classmethod
    def from_handle(cls, handle: dict[str, JsonValue]) -> AwsScope:
        profile, region = handle.get("profile"), handle.get("region")
        endpoint = handle.get("endpoint_url")
        return cls(
            profile=profile if isinstance(profile, str) else None,
            region=region if isinstance(region, str) else None,
            endpoint_url=endpoint if isinstance(endpoint, str) else None,
        )


def scope_for(
    ctx: DrillContext,
    target: AwsTarget | None,
    *,
    region: str | None = None,
    profile: str | None = None,
) -> AwsScope:
    """The most specific wins: explicit params, then the target, then ``--profile``."""
    return AwsScope(
        profile=profile or (target.profile if target else None) or ctx.profile,
        region=region or (target.region if target else None),
    )


class AwsSessions:
    """The drill's boto3 sessions (one per profile), their clients and caller identities."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str | None, Any] = {}
        self._clients: dict[tuple[str, str | None, str, str | None], Any] = {}
        self._accounts: dict[str | None, str] = {}

    def _session(self, profile: str | None) -> Any:
        import boto3  # the aws extra: imported only when an AWS kind runs

        if profile not in self._sessions:
            self._sessions[profile] = boto3.Session(profile_name=profile)
        return self._sessions[profile]

    def _region_locked(self, scope: AwsScope) -> str:
        region = scope.region or self._session(scope.profile).region_name
        if not region:
            raise UsageError(
                "no AWS region: set region: on the target, or AWS_REGION / the profile's region"
            )
        return str(region)

    def _resolve_now(self, scope: AwsScope) -> AwsScope:
        with self._lock:
            return AwsScope(scope.profile, self._region_locked(scope), scope.endpoint_url)

    async def resolve(self, scope: AwsScope) -> AwsScope:
        """The same scope with its region filled in from the profile when not given.

        Runs in a thread: the first use of a profile reads the AWS config files.
        """
        try:
            return await _to_thread(lambda: self._resolve_now(scope))
        except KunrenError:
            raise
        except Exception as exc:
            if is_botocore_error(exc):
                raise translate(
                    exc,
                    operation="loading the AWS configuration",
                    resource=f"profile {scope.profile or 'default'}",
                    region=scope.region,
                    error=UsageError,
                ) from exc
            raise

    def _client(self, service: str, scope: AwsScope) -> Any:
        from botocore.config import Config

        with self._lock:
            region = self._region_locked(scope)
            key = (service, scope.profile, region, scope.endpoint_url)
            if key not in self._clients:
                config = Config(user_agent_extra="kunren", connect_timeout=10, read_timeout=60)
                self._clients[key] = self._session(scope.profile).client(
                    service, region_name=region, endpoint_url=scope.endpoint_url, config=config
                )
            return self._clients[key]

    async def call(
        self,
        service: str,
        scope: AwsScope,
        operation: str,
        *,
        resource: str,
        error: type[KunrenError] = InjectionError,
        **kwargs: Any,
    ) -> AwsResponse:
        """Run one boto3 call in a thread; a botocore failure becomes one ``error`` line."""

        def run() -> AwsResponse:
            client = self._client(service, scope)
            result: AwsResponse = getattr(client, operation)(**kwargs)
            return result

        try:
            return await _to_thread(run)
        except KunrenError:
            raise
        except Exception as exc:
            if not is_botocore_error(exc):
                raise
            api_name = self._api_name(service, scope, operation)
            raise translate(
                exc, operation=api_name, resource=resource, region=scope.region, error=error
            ) from exc

    async def pages(
        self,
        service: str,
        scope: AwsScope,
        operation: str,
        *,
        resource: str,
        limit: int = 100,
        **kwargs: Any,
    ) -> list[AwsResponse]:
        """Every page of a paginated call (bounded, so a runaway listing cannot hang a drill)."""

        def run() -> list[AwsResponse]:
            paginator = self._client(service, scope).get_paginator(operation)
            found: list[AwsResponse] = []
            for page in paginator.paginate(**kwargs):
                found.append(page)
                if len(found) >= limit:
                    break
            return found

        try:
            return await _to_thread(run)
        except KunrenError:
            raise
        except Exception as exc:
            if not is_botocore_error(exc):
                raise
            raise translate(
                exc,
                operation=self._api_name(service, scope, operation),
                resource=resource,
                region=scope.region,
                error=InjectionError,
            ) from exc

    def _api_name(self, service: str, scope: AwsScope, operation: str) -> str:
        """The AWS name of a boto3 method (``describe_db_instances`` -> DescribeDBInstances)."""
        fallback = "".join(part.capitalize() for part in operation.split("_"))
        for (name, profile, _region, _endpoint), client in list(self._clients.items()):
            if name == service and profile == scope.profile:
                return str(client.meta.method_to_api_mapping.get(operation, fallback))
        return fallback

    async def account(self, scope: AwsScope) -> str:
        """The account the credentials belong to (STS GetCallerIdentity), once per profile."""
        if scope.profile not in self._accounts:
            identity = await self.call(
                "sts",
                scope,
                "get_caller_identity",
                resource=f"the credentials of profile {scope.profile or 'default'}",
            )
            self._accounts[scope.profile] = str(identity["Account"])
        return self._accounts[scope.profile]


def aws_sessions(ctx: DrillContext) -> AwsSessions:
    """The drill's sessions, created on first use and kept in ``ctx.resources``."""
    existing = ctx.resources.get(RESOURCE_KEY)
    if isinstance(existing, AwsSessions):
        return existing
    sessions = AwsSessions()
    ctx.resources[RESOURCE_KEY] = sessions
    return sessions


async def _to_thread(fn: Callable[[], _T]) -> _T:
    """``asyncio.to_thread``, imported when a call is made: validating a scenario that names
    an AWS kind loads this module, not asyncio."""
    import asyncio

    return await asyncio.to_thread(fn)
