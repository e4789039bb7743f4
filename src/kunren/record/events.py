"""The typed events of the drill record (``events.jsonl``), one class per event type.

The event log is the single source of truth: the scorer and the reports read only this. Each
event carries ``seq`` (strictly increasing), ``type``, ``at`` (drill time in seconds since drill
start) and ``wall`` (ISO 8601 with offset); an event a scheduled step produced also carries
``step``, the step's key. Event types are extended, never renamed; the format
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
    alert               from a webhook or the import: source, name, status, identity,
                        labels, fingerprint / incident id, url, source times, real lag
    inject              announcement, inquiry, unavailable
    milestone           name, actor, role, source (participant|facilitator|simulated), note
    notification        drafted / approved / sent / failed customer notice
    runbook             a runbook run by a participant, and its result
    readiness           a participant's answer: can they open a tool their role needs
    participant.joined  a participant joined in a role
    note                free text; notes starting ``action:`` become action items
    amendment           a facilitator's correction of an earlier event's time
    (milestone, note and amendment carry ``late: true`` when recorded after the drill ended)
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter

from kunren.factories import new_dict, new_list

FORMAT_VERSION = 1

Json = dict[str, JsonValue]


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int = 0
    at: float = 0.0
    wall: str = ""
    # The key of the scheduled step that produced this event ("fault:kill-web", "load:2"),
    # so resume reads from the record which steps are done. Left out of the line when None.
    step: str | None = Field(default=None, exclude_if=lambda value: value is None)


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
    simulate: bool = True  # False: run with --no-simulate (kunren resume keeps them home too)


class DrillEnded(_Event):
    type: Literal["drill.ended"] = "drill.ended"
    reason: str = "duration reached"


class DrillAborted(_Event):
    type: Literal["drill.aborted"] = "drill.aborted"
    reason: str


class DrillResumed(_Event):
    type: Literal["drill.resumed"] = "drill.resumed"
    reason: str = "resumed after the conductor stopped"
    # The speed the rest of the drill runs at (``kunren resume --speed``); None: as started.
    speed: float | None = Field(default=None, exclude_if=lambda value: value is None)


class FaultInjecting(_Event):
    type: Literal["fault.injecting"] = "fault.injecting"
    fault: str
    kind: str
    target: str | None = None
    planned: list[str] = Field(default_factory=new_list)
    undo: str = ""  # how it will be undone, in words (empty: not reversible)
    revert: Json | None = None  # the handle that undoes it, if known before acting
    runbook: str | None = None  # set when a participant's runbook caused it


class FaultInjected(_Event):
    type: Literal["fault.injected"] = "fault.injected"
    fault: str
    kind: str = ""
    targets: list[str] = Field(default_factory=new_list)
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
    command: list[str] = Field(default_factory=new_list)


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
    endpoints: list[EndpointStats] = Field(default_factory=new_list)


class ProbeFailed(_Event):
    type: Literal["probe.failed"] = "probe.failed"
    probe: str
    detail: str = ""


class ProbeRecovered(_Event):
    type: Literal["probe.recovered"] = "probe.recovered"
    probe: str
    detail: str = ""


class Alert(_Event):
    """One state change of one alert, as its source reported it.

    ``identity`` is what tells two alerts apart when they share a name (Alertmanager's
    fingerprint or sorted label set, a PagerDuty incident id, a Grafana rule and labels, a
    CloudWatch alarm ARN); state is kept per identity. ``starts_at``/``ends_at`` are the
    source's own times (ISO 8601), beside ``at``/``wall`` (arrival); ``lag`` is the real
    seconds from the source's time of this change to its arrival, never scaled by the clock.
    Every field after ``actor`` is optional: older records have none of them.
    """

    type: Literal["alert"] = "alert"
    source: str = "generic"
    name: str
    status: str = "firing"
    actor: str | None = None
    identity: str = ""  # empty in older records: the name was the identity
    fingerprint: str | None = None
    incident: str | None = None  # PagerDuty incident id, Opsgenie alert id
    labels: dict[str, str] = Field(default_factory=new_dict)
    url: str | None = None  # where the source shows it (generatorURL, html_url…)
    starts_at: str | None = None
    ends_at: str | None = None
    lag: float | None = None


class Inject(_Event):
    type: Literal["inject"] = "inject"
    kind: str
    text: str = ""
    who: str | None = None
    to: list[str] = Field(default_factory=new_list)
    until: float | None = None


MilestoneSource = Literal["participant", "facilitator", "simulated", "alert", "import"]


class Milestone(_Event):
    type: Literal["milestone"] = "milestone"
    name: str
    actor: str
    role: str | None = None
    source: MilestoneSource = "participant"
    note: str = ""
    late: bool = False  # recorded after the drill ended (`--late`): a retro entry


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
    failed: list[str] = Field(default_factory=new_list)
    captured: int = 0  # recipients outside the drill allowlist, captured instead of sent
    sender: str = ""
    role: str | None = None
    approver: str | None = None
    subject: str = ""
    marker: str = "[DRILL]"
    live: bool = False  # sent to the real audience (--live-notifications), not the allowlist
    note: str = ""  # why a notice was rejected, or why a channel failed
    languages: dict[str, int] = Field(default_factory=new_dict)  # recipients per language version
    lacking: list[str] = Field(default_factory=new_list)  # checklist items the notice did not meet
    next_update_at: float | None = None  # drill time of the next update the notice promised


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
    late: bool = False  # recorded after the drill ended (`--late`): a retro entry


class Amendment(_Event):
    type: Literal["amendment"] = "amendment"
    target_seq: int
    new_at: float
    actor: str = "facilitator"
    reason: str = ""
    late: bool = False  # recorded after the drill ended (`--late`): a retro entry


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


def parse_event(line: str | bytes) -> Event:
    """One JSONL line to its typed event (raises pydantic.ValidationError)."""
    return EVENT_ADAPTER.validate_json(line)
