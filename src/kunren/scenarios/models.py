"""Typed, frozen models of the scenario format (see README "Scenario format").

The models check shape and types; ``kunren.scenarios.loader`` adds file:line locations and the
cross-references (targets exist, kinds are installed plugins, times inside ``duration``…).
Kind-specific parameters (a fault's ``match``/``respond``, a probe's ``http`` block) are kept
as plain JSON here and validated by the model each plugin brings.
"""

import re
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from kunren.durations import format_duration, parse_duration
from kunren.factories import new_dict, new_list

BUILTIN_MILESTONES: tuple[str, ...] = (
    "detected",
    "acknowledged",
    "escalated",
    "triaged",
    "customer_notified",
    "mitigated",
    "resolved",
)

MILESTONE_LABELS: dict[str, dict[str, str]] = {
    "detected": {"en": "I noticed a problem", "ja": "異常に気づいた"},
    "acknowledged": {"en": "Acknowledged the alert", "ja": "アラートを確認した"},
    "escalated": {"en": "Escalated to an engineer", "ja": "エンジニアにエスカレーションした"},
    "triaged": {"en": "Triaged", "ja": "切り分けた"},
    "customer_notified": {"en": "Customers notified", "ja": "お客様に告知した"},
    "mitigated": {"en": "Mitigated", "ja": "暫定対処した"},
    "resolved": {"en": "Resolved", "ja": "復旧した"},
}

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

# Limits that keep a valid scenario from breaking a run with a fault active: drill folders and
# service logs are named after ids (a file name holds 255 bytes), and the clock's arithmetic
# and timers overflow long before 99999999h. A game day is hours; a soak drill may be days.
MAX_ID_LENGTH = 64
MAX_DURATION = 30 * 86400.0


def _duration(value: object) -> float:
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise PydanticCustomError("duration", str(exc)) from None
    if not seconds <= MAX_DURATION:  # also refuses nan and inf
        raise PydanticCustomError(
            "duration", "{v!r} is longer than kunren's limit of 30 days (30d)", {"v": value}
        )
    return seconds


def _positive(seconds: float) -> float:
    if seconds <= 0:
        raise PydanticCustomError("duration", "must be longer than 0s")
    return seconds


_DURATION_SCHEMA = {
    "type": "string",
    "pattern": r"^(\d+(\.\d+)?(d|h|m|s|ms))+$|^P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$|^0$",
    "description": "A duration: 90s, 5m, 1h30m or ISO 8601 (PT5M)",
    "examples": ["5m", "90s", "1h30m", "PT5M"],
}

Duration = Annotated[
    float,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(_DURATION_SCHEMA),
]
"""Seconds, written in YAML as ``90s``, ``5m``, ``1h30m`` or ``PT5M``."""

PositiveDuration = Annotated[Duration, AfterValidator(_positive)]
"""A duration where 0 makes no sense: the drill's length, an interval, a timeout, a window."""


def _identifier(value: object) -> object:
    if isinstance(value, str) and len(value) > MAX_ID_LENGTH:
        raise PydanticCustomError(
            "identifier",
            "an id of {n} characters is too long (at most {limit}): '{start}…'",
            {"n": len(value), "limit": MAX_ID_LENGTH, "start": value[:20]},
        )
    if isinstance(value, str) and not _ID.match(value):
        raise PydanticCustomError(
            "identifier",
            "expected an id of letters, digits, '-', '_' or '.', got '{value}'",
            {"value": value},
        )
    return value


Identifier = Annotated[str, BeforeValidator(_identifier)]


def _timezone(value: object) -> object:
    """An IANA zone name (``Asia/Tokyo``); checked here so a typo is a scenario error."""
    if not isinstance(value, str):
        return value
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "timezone",
            "expected a time zone name like Asia/Tokyo or UTC, got '{value}'",
            {"value": value},
        ) from None
    return value


TimeZoneName = Annotated[
    str,
    BeforeValidator(_timezone),
    WithJsonSchema({"type": "string", "examples": ["Asia/Tokyo", "UTC", "Europe/Berlin"]}),
]


def _one_or_many(value: object) -> object:
    return [value] if isinstance(value, str) else value


RoleList = Annotated[list[str], BeforeValidator(_one_or_many)]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# ---------------------------------------------------------------- roles


class Tool(Model):
    name: str
    url: str | None = None
    description: str = ""


class Role(Model):
    min: int = Field(default=0, ge=0)
    tools: list[Tool] = Field(default_factory=new_list)
    milestones: list[str] | None = None  # None: every milestone
    label: str | None = None
    label_ja: str | None = None


# ---------------------------------------------------------------- targets


class Select(Model):
    count: int | None = Field(default=None, ge=1)
    percent: float | None = Field(default=None, gt=0, le=100)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.count is None) == (self.percent is None):
            raise PydanticCustomError("select", "give exactly one of count or percent")
        return self


class AwsTarget(Model):
    region: str | None = None
    profile: str | None = None


class Ec2Target(AwsTarget):
    filters: dict[str, str | list[str]] = Field(default_factory=new_dict)
    ids: list[str] = Field(default_factory=new_list)
    select: Select | None = None

    @model_validator(mode="after")
    def _explicit(self) -> Self:
        if not self.filters and not self.ids:
            raise PydanticCustomError(
                "explicit", "give filters or ids: kunren never targets every instance"
            )
        return self


class AsgTarget(AwsTarget):
    name: str
    select: Select | None = None


class EcsTarget(AwsTarget):
    cluster: str
    service: str | None = None
    select: Select | None = None


class RdsTarget(AwsTarget):
    db_instance: str | None = None
    db_cluster: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.db_instance is None) == (self.db_cluster is None):
            raise PydanticCustomError("rds", "give exactly one of db_instance or db_cluster")
        return self


class ProcessTarget(Model):
    service: str | None = None
    pid_file: str | None = None
    pattern: str | None = None  # matched against the command line of running processes

    @model_validator(mode="after")
    def _one(self) -> Self:
        given = [v for v in (self.service, self.pid_file, self.pattern) if v is not None]
        if len(given) != 1:
            raise PydanticCustomError("process", "give exactly one of service, pid_file, pattern")
        return self


TARGET_KINDS: tuple[str, ...] = ("url", "process", "aws.ec2", "aws.asg", "aws.ecs", "aws.rds")


def _same_place(url: str | None, upstream: str) -> bool:
    """Whether two URLs name one listening socket (scheme, host and port; path ignored)."""
    from urllib.parse import urlsplit

    if url is None:
        return False
    try:
        a, b = urlsplit(url.strip()), urlsplit(upstream.strip())
        ports = (a.port, b.port)
    except ValueError:
        return False  # a malformed URL is reported by the kind's own check
    defaults = {"http": 80, "https": 443}
    port_a = ports[0] or defaults.get(a.scheme.lower())
    port_b = ports[1] or defaults.get(b.scheme.lower())
    loopback = {"localhost", "127.0.0.1", "::1"}
    host_a, host_b = (a.hostname or "").lower(), (b.hostname or "").lower()
    same_host = host_a == host_b or (host_a in loopback and host_b in loopback)
    return same_host and port_a == port_b and a.scheme.lower() == b.scheme.lower()


class Target(Model):
    """A named thing faults and probes act on; exactly one kind key is given."""

    url: str | None = None
    upstream: str | None = None  # with url: kunren's fault proxy serves url, forwarding here
    process: ProcessTarget | None = None
    aws_ec2: Ec2Target | None = Field(default=None, alias="aws.ec2")
    aws_asg: AsgTarget | None = Field(default=None, alias="aws.asg")
    aws_ecs: EcsTarget | None = Field(default=None, alias="aws.ecs")
    aws_rds: RdsTarget | None = Field(default=None, alias="aws.rds")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [k for k in TARGET_KINDS if self.spec(k) is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "target", "give exactly one of: {kinds}", {"kinds": ", ".join(TARGET_KINDS)}
            )
        if self.upstream is not None and self.url is None:
            raise PydanticCustomError("target", "upstream goes with url")
        if self.upstream is not None and _same_place(self.url, self.upstream):
            raise PydanticCustomError(
                "target",
                "upstream is the same address as url ({url}): kunren's proxy would forward to "
                "itself; upstream is where the real service listens",
                {"url": self.url},
            )
        return self

    def spec(self, kind: str) -> Any:
        return getattr(self, kind.replace(".", "_"))

    @property
    def kind(self) -> str:
        return next(k for k in TARGET_KINDS if self.spec(k) is not None)

    @property
    def is_aws(self) -> bool:
        return self.kind.startswith("aws.")


# ---------------------------------------------------------------- services and load


class Service(Model):
    command: list[str] = Field(min_length=1)
    ready: str | None = None  # URL answering 2xx once the service is up
    ready_timeout: PositiveDuration = 30.0
    stop_timeout: PositiveDuration = 5.0  # SIGTERM to the group, then SIGKILL after this long
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=new_dict)

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return value.split() if isinstance(value, str) else value


class LoadStageSpec(Model):
    at: Duration
    users: int = Field(ge=0)
    spawn_rate: float = Field(gt=0)


class Distributed(Model):
    workers: int = Field(default=0, ge=0, le=64)


class MasterAddress(Model):
    host: str
    port: int = Field(default=5557, ge=1, le=65535)
    web_port: int = Field(default=8089, ge=1, le=65535)


class Load(Model):
    locustfile: str | None = None
    urls: list[str] = Field(default_factory=new_list)  # built-in locustfile: GET each in turn
    host: str
    stages: list[LoadStageSpec] = Field(min_length=1)
    distributed: Distributed = Distributed()
    master: MasterAddress | None = None
    stats_every: Duration = 5.0

    @model_validator(mode="after")
    def _source(self) -> Self:
        if (self.locustfile is None) == (not self.urls):
            raise PydanticCustomError("load", "give either locustfile or urls")
        if self.master is not None and self.distributed.workers:
            raise PydanticCustomError(
                "load", "give distributed.workers (local workers) or master (existing), not both"
            )
        return self


# ---------------------------------------------------------------- faults, injects, runbooks


def own_keys(model: type[BaseModel]) -> frozenset[str]:
    """The keys a kind-keyed entry (fault, runbook, probe) takes beside its kind's parameters:
    its fields as written (aliases), read from the model so no list repeats them."""
    return frozenset(f.alias or name for name, f in model.model_fields.items()) - {"params"}


def _gather_params(cls: type[BaseModel], value: object) -> object:
    """Keys that are not the model's own are the kind's parameters: gather them in params."""
    if not isinstance(value, dict):
        return value
    fixed = own_keys(cls)
    common = {k: v for k, v in value.items() if k in fixed}
    common["params"] = {k: v for k, v in value.items() if k not in fixed}
    return common


class Fault(Model):
    """A fault at a drill time; keys beyond the common ones are the kind's own parameters."""

    id: Identifier
    at: Duration
    kind: str
    target: str | None = None
    for_: PositiveDuration | None = Field(default=None, alias="for")
    # real seconds each call into the fault's plugin (preflight, setup, plan, inject, revert,
    # close) may take before it is cancelled and recorded as failed; None: 60s inject/revert,
    # 30s the others
    call_timeout: PositiveDuration | None = None
    description: str = ""
    params: dict[str, JsonValue] = Field(default_factory=new_dict)

    @model_validator(mode="before")
    @classmethod
    def _gather(cls, value: object) -> object:
        return _gather_params(cls, value)


InjectKind = Literal["announcement", "inquiry", "unavailable"]


class InjectSpec(Model):
    at: Duration
    kind: InjectKind
    text: str = ""
    who: str | None = None
    to: RoleList = Field(default_factory=new_list)  # roles it is addressed to; empty: everyone
    for_: PositiveDuration | None = Field(default=None, alias="for")

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if self.kind == "unavailable" and not self.who:
            raise PydanticCustomError("inject", "an 'unavailable' inject needs who")
        if self.kind in ("announcement", "inquiry") and not self.text:
            raise PydanticCustomError(
                "inject", "an '{kind}' inject needs text", {"kind": self.kind}
            )
        return self


class RunbookSpec(Model):
    id: Identifier
    title: str
    kind: str
    target: str | None = None
    roles: RoleList = Field(default_factory=new_list)  # empty: every role
    doc: str | None = None
    description: str = ""
    confirm: bool = True
    params: dict[str, JsonValue] = Field(default_factory=new_dict)

    @model_validator(mode="before")
    @classmethod
    def _gather(cls, value: object) -> object:
        return _gather_params(cls, value)

    def allows(self, role: str) -> bool:
        """The one role rule: a runbook without ``roles`` is open to every role."""
        return not self.roles or role in self.roles


# ---------------------------------------------------------------- probes and stop conditions


class ProbeSpec(Model):
    """``{id, every, <kind>: {params}}``: the one key beside id/every names the probe kind."""

    id: Identifier
    every: PositiveDuration = 10.0
    description: str = ""
    kind: str
    params: dict[str, JsonValue] = Field(default_factory=new_dict)

    @model_validator(mode="before")
    @classmethod
    def _split_kind(cls, value: object) -> object:
        if not isinstance(value, dict) or "kind" in value:
            return value
        fixed = own_keys(cls) - {"kind"}  # the kind is the one other key, not a field
        common = {k: v for k, v in value.items() if k in fixed}
        rest = {k: v for k, v in value.items() if k not in fixed}
        if len(rest) != 1:
            raise PydanticCustomError(
                "probe_kind",
                "give exactly one probe kind key (http, command, aws.cloudwatch.alarm…), got {n}",
                {"n": ", ".join(rest) or "none"},
            )
        ((kind, params),) = rest.items()
        if params is None:
            params = {}
        common.update(kind=kind, params=params)
        return common


class StopCondition(Model):
    probe: str
    failing_for: Duration = 0.0


# ---------------------------------------------------------------- objectives


class Objective(Model):
    within: PositiveDuration
    by: RoleList = Field(default_factory=new_list)


class MilestoneSpec(Model):
    label: str | None = None
    label_ja: str | None = None
    roles: RoleList = Field(default_factory=new_list)


# ---------------------------------------------------------------- notifications


class AudienceSpec(Model):
    file: str
    segment: str | list[str] | None = None
    lang: str | None = None
    label: str | None = None  # what the page calls it ("All customers")
    label_ja: str | None = None


class Approval(Model):
    by: RoleList


class ChannelSpec(Model):
    name: str
    params: dict[str, JsonValue] = Field(default_factory=new_dict)


def _channel(value: object) -> object:
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, dict) and len(value) == 1 and "name" not in value:
        ((name, params),) = value.items()
        return {"name": name, "params": params or {}}
    return value


Channel = Annotated[ChannelSpec, BeforeValidator(_channel)]

TemplateRef = str | dict[str, str]  # one file, or one file per language

ChecklistItem = Literal["affected", "workaround", "next_update", "no_eta", "no_internal_hosts"]
"""What every customer notice must say (or must not): checked on preview and scored."""


class Notifications(Model):
    templates: dict[str, TemplateRef] = Field(default_factory=new_dict)
    audiences: dict[str, AudienceSpec] = Field(default_factory=new_dict)
    channels: list[Channel] = Field(default_factory=lambda: [ChannelSpec(name="capture")])
    approval: Approval | None = None
    drill_allowlist: list[str] = Field(default_factory=new_list)  # addresses or @domain
    variables: dict[str, str] = Field(default_factory=new_dict)
    checklist: list[ChecklistItem] = Field(default_factory=new_list)


# ---------------------------------------------------------------- simulate and safety


_RANGE = re.compile(r"^\s*(\S+?)\s*-\s*(\S+)\s*$")


def _time_range(value: object) -> object:
    if isinstance(value, str):
        match = _RANGE.match(value)
        if match and not value.upper().startswith("P"):
            lo, hi = (_duration(part) for part in match.groups())
            if hi < lo:
                raise PydanticCustomError(
                    "range", "range ends before it starts: '{v}'", {"v": value}
                )
            return (lo, hi)
        single = _duration(value)
        return (single, single)
    return value


TimeRange = Annotated[
    tuple[float, float],
    BeforeValidator(_time_range),
    WithJsonSchema({"type": "string", "examples": ["6m-10m", "25m"]}),
]

_PERSON_FIELDS = {"role", "person"}


class SimulatedPerson(Model):
    role: str
    person: str
    milestones: dict[str, TimeRange] = Field(default_factory=new_dict)

    @model_validator(mode="before")
    @classmethod
    def _gather(cls, value: object) -> object:
        if not isinstance(value, dict) or "milestones" in value:
            return value
        common = {k: v for k, v in value.items() if k in _PERSON_FIELDS}
        common["milestones"] = {k: v for k, v in value.items() if k not in _PERSON_FIELDS}
        return common


class Simulate(Model):
    seed: int = 0
    people: list[SimulatedPerson] = Field(default_factory=new_list)


class Safety(Model):
    require_tag: dict[str, str] = Field(default_factory=lambda: {"kunren:allow": "true"})
    max_targets: int = Field(default=1, ge=1)
    allowed_regions: list[str] = Field(default_factory=new_list)
    allowed_accounts: list[str] = Field(default_factory=new_list)
    dry_run_preflight: bool = True


# ---------------------------------------------------------------- the alert intake


class Intake(Model):
    """``intake:``: monitoring posts alerts here, wired once and kept across drills."""

    token_file: str = "~/.config/kunren/intake-token"  # else $KUNREN_INTAKE_TOKEN
    port: int = Field(default=8766, ge=0, le=65535)  # 0: any free port (tests)
    sns_certificate: str | None = None  # PEM of SNS's signing certificate, for /intake/sns


# ---------------------------------------------------------------- the scenario


class Scenario(Model):
    version: Literal[1]
    id: Identifier
    title: str
    description: str = ""
    duration: PositiveDuration
    tags: list[str] = Field(default_factory=new_list)
    lang: Literal["en", "ja"] = "en"
    timezone: TimeZoneName | None = None  # times shown to people; None: the host's zone
    t0: Literal["first_fault", "impact"] = "first_fault"
    roles: dict[str, Role] = Field(default_factory=new_dict)
    milestones: dict[str, MilestoneSpec] = Field(default_factory=new_dict)
    targets: dict[str, Target] = Field(default_factory=new_dict)
    services: dict[Identifier, Service] = Field(default_factory=new_dict)  # names log files
    load: Load | None = None
    faults: list[Fault] = Field(default_factory=new_list)
    injects: list[InjectSpec] = Field(default_factory=new_list)
    probes: list[ProbeSpec] = Field(default_factory=new_list)
    stop_conditions: list[StopCondition] = Field(default_factory=new_list)
    objectives: dict[str, Objective] = Field(default_factory=new_dict)
    runbooks: list[RunbookSpec] = Field(default_factory=new_list)
    notifications: Notifications | None = None
    simulate: Simulate | None = None
    safety: Safety | None = None
    intake: Intake | None = None

    @property
    def milestone_names(self) -> list[str]:
        return list(BUILTIN_MILESTONES) + [
            m for m in self.milestones if m not in BUILTIN_MILESTONES
        ]

    def milestones_for_role(self, role: str) -> list[str]:
        spec = self.roles.get(role)
        if spec is not None and spec.milestones is not None:
            return list(spec.milestones)
        names = []
        for name in self.milestone_names:
            custom = self.milestones.get(name)
            if custom is None or not custom.roles or role in custom.roles:
                names.append(name)
        return names

    def milestone_label(self, name: str, lang: str = "en") -> str:
        custom = self.milestones.get(name)
        if custom is not None:
            label = custom.label_ja if lang == "ja" and custom.label_ja else custom.label
            if label:
                return label
        return MILESTONE_LABELS.get(name, {}).get(lang) or name.replace("_", " ")

    def fault(self, fault_id: str) -> Fault | None:
        return next((f for f in self.faults if f.id == fault_id), None)

    def runbook(self, runbook_id: str) -> RunbookSpec | None:
        return next((r for r in self.runbooks if r.id == runbook_id), None)

    def probe(self, probe_id: str) -> ProbeSpec | None:
        return next((p for p in self.probes if p.id == probe_id), None)
