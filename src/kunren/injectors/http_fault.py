"""``http.fault``: make requests to one URL fail, slow down, hang or drop, for a set time.

"Requests to one particular URL bring the site down" is the classic game-day fault. kunren
puts a fault proxy (``fault_proxy.FaultProxy``) where clients reach the service, the target's
``url``, forwarding to the real service at ``upstream``. ``setup()`` starts the proxy at drill
start, so the site works normally through it; ``inject()`` turns one rule on and ``revert()``
turns it off. Faults on the same target share one proxy through ``ctx.resources``.
"""

from __future__ import annotations

import os
import random
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from kunren.errors import InjectionError, RevertError
from kunren.factories import new_dict
from kunren.injectors.base import Handle, Injected, Injector, Planned
from kunren.runtime import procfs
from kunren.scenarios.models import Duration, Target

if TYPE_CHECKING:
    # imported by the methods that run the proxy (it needs asyncio): checking a scenario that
    # names http.fault does not load it
    from kunren.injectors.fault_proxy import FaultProxy, Rule


def _proxy_key(url: str) -> str:
    return f"http.fault.proxy:{url}"


def _shared_proxy(resources: MutableMapping[str, object], url: str) -> FaultProxy | None:
    """The fault proxy this drill runs on ``url``, shared by the faults on that target."""
    from kunren.injectors.fault_proxy import FaultProxy

    shared = resources.get(_proxy_key(url))
    return shared if isinstance(shared, FaultProxy) else None


def _methods(value: object) -> object:
    return [value] if isinstance(value, str) else value


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Match(_Model):
    path: str = "/"  # a path and everything below it, or a glob such as /api/*
    method: Annotated[list[str], BeforeValidator(_methods)] = Field(default_factory=lambda: ["*"])

    @property
    def methods(self) -> frozenset[str] | None:
        names = frozenset(m.upper() for m in self.method)
        return None if "*" in names else names

    def describe(self) -> str:
        verbs = "any method" if self.methods is None else "/".join(sorted(self.methods))
        return f"{verbs} {self.path}"


class Respond(_Model):
    status: int = Field(default=500, ge=100, le=599)
    body: str | None = None  # None: a short text naming the fault
    headers: dict[str, str] = Field(default_factory=new_dict)


class HttpFaultParams(_Model):
    match: Match = Match()
    respond: Respond | None = None
    latency: Duration | None = None
    hang: bool = False
    close: bool = False
    probability: float = Field(default=1.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _one_action(self) -> HttpFaultParams:
        given = [
            name
            for name, value in (
                ("respond", self.respond is not None),
                ("latency", self.latency is not None),
                ("hang", self.hang),
                ("close", self.close),
            )
            if value
        ]
        if not given or (len(given) > 1 and set(given) != {"respond", "latency"}):
            raise PydanticCustomError(
                "http_fault",
                "give one of respond (with or without latency), latency, hang: true "
                "or close: true; got {given}",
                {"given": " and ".join(given) or "none"},
            )
        return self

    def describe(self) -> str:
        if self.hang:
            action = "hang"
        elif self.close:
            action = "close the connection"
        else:
            parts = []
            if self.latency:
                parts.append(f"delay {self.latency:g}s")
            if self.respond is not None:
                parts.append(f"answer {self.respond.status}")
            action = " then ".join(parts)
        chance = f" ({self.probability:.0%} of requests)" if self.probability < 1 else ""
        return f"{self.match.describe()}: {action}{chance}"


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port if parts.port is not None else 80


def _url_problem(url: str, key: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return f"http.fault needs an http://HOST:PORT {key}, got {url!r}"
    if parts.path not in ("", "/") or parts.query:
        return f"http.fault proxies a whole host:port; drop the path from {key} {url!r}"
    return None


class HttpFault(Injector[HttpFaultParams]):
    """Answer, delay, hang or drop matching requests through kunren's fault proxy."""

    target_kinds = ("url",)
    summary = "Fault proxy: matching requests get a status, latency, a hang or a drop."

    @classmethod
    def check_target(cls, target: Target) -> str | None:
        """A load-time check: the target must say where the real service is (``upstream``)."""
        if target.url is None:
            return "http.fault needs a url target with an upstream"
        if target.upstream is None:
            return (
                "http.fault needs the target's upstream: kunren's proxy listens on url and "
                "forwards to upstream, e.g. {url: http://127.0.0.1:8080, "
                "upstream: http://127.0.0.1:8081}"
            )
        return _url_problem(target.url, "url") or _url_problem(target.upstream, "upstream")

    @property
    def _urls(self) -> tuple[str, str]:
        target = self.request.target
        problem = "no target" if target is None else self.check_target(target)
        if target is None or target.url is None or target.upstream is None or problem:
            raise InjectionError(f"{self.request.id}: {problem}")
        return target.url, target.upstream

    @property
    def _key(self) -> str:
        return _proxy_key(self._urls[0])

    def _proxy(self) -> FaultProxy | None:
        return _shared_proxy(self.ctx.resources, self._urls[0])

    async def setup(self) -> None:
        if self.ctx.dry_run:
            return
        shared = self._proxy()
        if shared is not None:
            shared.users.add(self.request.id)
            return
        from kunren.injectors.fault_proxy import FaultProxy

        url, upstream = self._urls
        proxy = FaultProxy(_address(url), _address(upstream))
        try:
            await proxy.start()
        except OSError as exc:
            raise InjectionError(
                f"cannot start the fault proxy on {url}: {exc.strerror or exc} (run the "
                f"service itself on its upstream {upstream}, not on {url})"
            ) from exc
        proxy.users.add(self.request.id)
        self.ctx.resources[self._key] = proxy

    def _handle(self) -> Handle:
        me = procfs.read(os.getpid())
        return {
            "url": self._urls[0],
            "rule": self.request.id,
            "pid": os.getpid(),
            "start": me.start if me is not None else None,
        }

    async def plan(self) -> Planned:
        return Planned(
            targets=[f"{self._urls[0]}: {self.params.describe()}"],
            undo=f"turn off the proxy rule {self.request.id} (requests pass through again)",
            revert=self._handle(),
        )

    async def inject(self) -> Injected:
        await self.setup()
        proxy = self._proxy()
        if proxy is None:
            raise InjectionError(f"{self.request.id}: the fault proxy is not running")
        proxy.activate(self._rule())
        return Injected(
            targets=[f"{self._urls[0]}: {self.params.describe()}"],
            revert=self._handle(),
            detail=f"proxy {self._urls[0]} -> {self._urls[1]}",
        )

    def _rule(self) -> Rule:
        from kunren.injectors.fault_proxy import Rule

        params = self.params
        respond = params.respond
        status = respond.status if respond is not None else None
        body = ""
        if respond is not None:
            body = (
                respond.body
                if respond.body is not None
                else (f"kunren drill fault {self.request.id}: {status}\n")
            )
        return Rule(
            id=self.request.id,
            path=params.match.path,
            methods=params.match.methods,
            status=status,
            body=body.encode(),
            headers=tuple(respond.headers.items()) if respond is not None else (),
            latency=params.latency,
            hang=params.hang,
            close=params.close,
            probability=params.probability,
            rng=random.Random(f"{self.ctx.seed}:{self.request.id}"),
        )

    async def revert(self, handle: Handle) -> str:
        rule_id = str(handle.get("rule", self.request.id))
        url = str(handle.get("url", ""))
        proxy = _shared_proxy(self.ctx.resources, url)
        if proxy is not None:
            rule = proxy.deactivate(rule_id)
            if rule is not None:
                count = f"{rule.matched} request{'s' if rule.matched != 1 else ''}"
                return f"rule {rule_id} off on {url} ({count} matched)"
        pid, start = handle.get("pid"), handle.get("start")
        if isinstance(pid, int) and pid != os.getpid():
            holder = procfs.alive(pid, start if isinstance(start, int) else None)
            if holder is not None:
                raise RevertError(
                    f"rule {rule_id} lives in the fault proxy of drill process pid {pid}, "
                    "which is still running: abort that drill to end the fault"
                )
            return (
                f"the fault proxy on {url} ended with drill process pid {pid}; rule "
                f"{rule_id} ended with it (nothing listens on {url} until the drill resumes)"
            )
        return f"rule {rule_id} was not active on {url}"

    async def close(self) -> None:
        """Stop the shared proxy once the last fault that set it up is closed."""
        proxy = self._proxy()
        if proxy is None:
            return
        proxy.users.discard(self.request.id)
        if not proxy.users:
            del self.ctx.resources[self._key]
            await proxy.close()
