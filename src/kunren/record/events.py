"""The typed events of the drill record (``events.jsonl``), one class per event type.

The event log is the single source of truth: the scorer and the reports read only this. Each
event carries ``seq`` (strictly increasing), ``type``, ``at`` (drill time in seconds since drill
start) and ``wall`` (ISO 8601 with offset). Event types are extended, never renamed; the format
version is ``v`` in ``drill.started``.

    drill.started / drill.ended / drill.aborted / drill.resumed
    fault.injecting     intent: planned targets and how to undo, logged BEFORE acting
    fault.injected      actual targets and the revert handle
    fault.failed / fault.reverting / fault.reverted / fault.revert_failed
    service.started / service.stopped   local services the drill owns (pid recorded)
    service.exited      a service exited by itself mid-drill (its exit code)
    load.stage          users and spawn rate (planned: true when no load was generated)
    load.stats          one interval's rps, failures/s, p50/p95, per endpoint
    load.lost           a Locust process exited mid-drill (a worker: the rest go on)
    probe.failed / probe.recovered    state changes only
    alert               from a webhook or the import: source, name, status
    inject              announcement, inquiry, unavailable
    milestone           name, actor, role, source (participant|facilitator|simulated), note
    notification        drafted / approved / sent / failed customer notice
    runbook             a runbook run by a participant, and its result
    readiness           a participant's answer: can they open a tool their role needs
    participant.joined  a participant joined in a role
    note                free text; notes starting ``action:`` become action items
    amendment           a facilitator's correction of an earlier event's time
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter

FORMAT_VERSION = 1

Json = dict[str, JsonValue]


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int = 0
    at: float = 0.0
    wall: str = ""


class DrillStarted(_Event):
    type: Literal["drill.started"] = "drill.started"
    v: int = FORMAT_VERSION
    drill: str
    scenario_id: str
    title: str = ""
    duration: float
    clock: str = "real"
    speed: float = 1.0
    source: str = "conductor"  # conductor | import


class DrillEnded(_Event):
    type: Literal["drill.ended"] = "drill.ended"
    reason: str = "duration reached"


class DrillAborted(_Event):
    type: Literal["drill.aborted"] = "drill.aborted"
    reason: str


class DrillResumed(_Event):
    type: Literal["drill.resumed"] = "drill.resumed"
    reason: str = "resumed after the conductor stopped"


class FaultInjecting(_Event):
    type: Literal["fault.injecting"] = "fault.injecting"
    fault: str
    kind: str
    target: str | None = None
    planned: list[str] = Field(default_factory=list)
    undo: str = ""  # how it will be undone, in words (empty: not reversible)
    revert: Json | None = None  # the handle that undoes it, if known before acting
    runbook: str | None = None  # set when a participant's runbook caused it


class FaultInjected(_Event):
    type: Literal["fault.injected"] = "fault.injected"
    fault: str
    kind: str = ""
    targets: list[str] = Field(default_factory=list)
    revert: Json | None = None  # the injector's revert handle; None: nothing to undo
    until: float | None = None  # drill time at which it is scheduled to revert
    detail: str = ""  # how the targets were chosen (selection rule, seed), what was done


class FaultFailed(_Event):
    type: Literal["fault.failed"] = "fault.failed"
    fault: str
    error: str


class FaultReverting(_Event):
    type: Literal["fault.reverting"] = "fault.reverting"
    fault: str


class FaultReverted(_Event):
    type: Literal["fault.reverted"] = "fault.reverted"
    fault: str
    detail: str = ""


class FaultRevertFailed(_Event):
    type: Literal["fault.revert_failed"] = "fault.revert_failed"
    fault: str
    error: str


class ServiceStarted(_Event):
    type: Literal["service.started"] = "service.started"
    name: str
    pid: int
    command: list[str] = Field(default_factory=list)


class ServiceStopped(_Event):
    type: Literal["service.stopped"] = "service.stopped"
    name: str
    detail: str = ""


class ServiceExited(_Event):
    """A service exited without kunren stopping it: code, or -N for killed by signal N."""

    type: Literal["service.exited"] = "service.exited"
    name: str
    code: int


class LoadLost(_Event):
    """A Locust process of the drill exited by itself. A worker: the master goes on with the
    rest. The master: the load has stopped (``load_stopped``) and the drill goes on."""

    type: Literal["load.lost"] = "load.lost"
    process: str  # "worker 2", "master", "process"
    code: int | None = None
    detail: str = ""
    load_stopped: bool = False


class LoadStage(_Event):
    type: Literal["load.stage"] = "load.stage"
    users: int
    spawn_rate: float
    planned: bool = False


class EndpointStats(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    method: str = ""
    rps: float = 0.0
    failures_per_s: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None


class LoadStats(_Event):
    type: Literal["load.stats"] = "load.stats"
    users: int = 0
    rps: float = 0.0
    failures_per_s: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None
    endpoints: list[EndpointStats] = Field(default_factory=list)


class ProbeFailed(_Event):
    type: Literal["probe.failed"] = "probe.failed"
    probe: str
    detail: str = ""


class ProbeRecovered(_Event):
    type: Literal["probe.recovered"] = "probe.recovered"
    probe: str
    detail: str = ""


class Alert(_Event):
    type: Literal["alert"] = "alert"
    source: str = "generic"
    name: str
    status: str = "firing"
    actor: str | None = None


class Inject(_Event):
    type: Literal["inject"] = "inject"
    kind: str
    text: str = ""
    who: str | None = None
    to: list[str] = Field(default_factory=list)
    until: float | None = None


MilestoneSource = Literal["participant", "facilitator", "simulated", "alert", "import"]


class Milestone(_Event):
    type: Literal["milestone"] = "milestone"
    name: str
    actor: str
    role: str | None = None
    source: MilestoneSource = "participant"
    note: str = ""


class Notification(_Event):
    type: Literal["notification"] = "notification"
    notice: str = ""  # id tying drafted / approved / sent together
    status: Literal["drafted", "approved", "rejected", "sent", "failed"] = "sent"
    channel: str = "capture"
    audience: str = ""
    template: str = ""
    lang: str = ""
    recipients: int = 0
    delivered: int = 0
    failed: list[str] = Field(default_factory=list)
    captured: int = 0  # recipients outside the drill allowlist, captured instead of sent
    sender: str = ""
    role: str | None = None
    approver: str | None = None
    subject: str = ""
    marker: str = "[DRILL]"
    live: bool = False  # sent to the real audience (--live-notifications), not the allowlist
    note: str = ""  # why a notice was rejected, or why a channel failed


class Runbook(_Event):
    type: Literal["runbook"] = "runbook"
    runbook: str
    actor: str
    role: str | None = None
    result: Literal["ok", "failed", "refused"] = "ok"
    detail: str = ""


class Readiness(_Event):
    type: Literal["readiness"] = "readiness"
    actor: str
    role: str
    tool: str
    ok: bool
    note: str = ""


class ParticipantJoined(_Event):
    type: Literal["participant.joined"] = "participant.joined"
    actor: str
    role: str


class Note(_Event):
    type: Literal["note"] = "note"
    text: str
    actor: str = ""


class Amendment(_Event):
    type: Literal["amendment"] = "amendment"
    target_seq: int
    new_at: float
    actor: str = "facilitator"
    reason: str = ""


Event = Annotated[
    DrillStarted
    | DrillEnded
    | DrillAborted
    | DrillResumed
    | FaultInjecting
    | FaultInjected
    | FaultFailed
    | FaultReverting
    | FaultReverted
    | FaultRevertFailed
    | ServiceStarted
    | ServiceStopped
    | ServiceExited
    | LoadStage
    | LoadStats
    | LoadLost
    | ProbeFailed
    | ProbeRecovered
    | Alert
    | Inject
    | Milestone
    | Notification
    | Runbook
    | Readiness
    | ParticipantJoined
    | Note
    | Amendment,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

EVENT_TYPES: tuple[str, ...] = tuple(
    cls.model_fields["type"].default for cls in _Event.__subclasses__()
)


def parse_event(line: str | bytes) -> Event:
    """One JSONL line to its typed event (raises pydantic.ValidationError)."""
    return EVENT_ADAPTER.validate_json(line)


def event_from_dict(data: dict[str, Any]) -> Event:
    return EVENT_ADAPTER.validate_python(data)


def dump_event(event: Event) -> str:
    return event.model_dump_json(exclude_none=False)
