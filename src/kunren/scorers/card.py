"""The Scorecard: everything the retro reads about one drill, as one frozen, typed value.

``score()`` builds it from the record alone, so a live drill, a resumed one and one typed in
with ``kunren import`` are scored alike. Its JSON (``kunren score --json`` and the JSON report)
is a public format: fields are added, never renamed. Times named ``at`` are drill time (seconds
since drill start); times named ``seconds`` are measured from T0 (see ``T0``).
"""

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from kunren.factories import new_dict, new_list
from kunren.record.marks import Mark
from kunren.record.timeline import DrillProvenance, Entry


class CardModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Timing(CardModel):
    """How long something took from T0; censored when it never happened before the drill ended.

    A censored timing's ``seconds`` is null: the observed window is kept in ``bound_seconds``
    and shown as "60+ min", never as a number that looks measured.
    """

    seconds: float | None
    censored: bool = False
    bound_seconds: float | None = None
    display: str
    at: float | None = None
    by: str | None = None
    role: str | None = None
    recorded_seconds: float | None = None  # before a facilitator's amendment, if amended
    before_t0: bool = False  # marked before T0: shown as such, never a time, never meets
    source: str | None = None  # who produced the mark: participant, simulated, notice…


ObjectiveStatus = Literal["met", "missed", "open"]


class ObjectiveResult(CardModel):
    """An objective held against the first mark that counts for it (its ``by`` roles, at or
    after T0). ``open``: not reached, but the drill stopped before the deadline, so it is
    neither met nor missed."""

    within_seconds: float
    by: list[str] = Field(default_factory=new_list)  # roles that count; empty: anyone
    seconds: float | None  # the time that was held against it (null: never reached)
    met: bool
    status: ObjectiveStatus = "missed"
    deadline_at: float | None = None  # drill time of the deadline (T0 + within)
    timing: Timing | None = None  # who met it and when: the card's headline


class MilestoneResult(CardModel):
    name: str
    label: str
    label_ja: str
    seconds: float | None
    censored: bool
    bound_seconds: float | None = None
    display: str
    at: float | None = None
    by: str | None = None
    role: str | None = None
    source: str | None = None
    recorded_seconds: float | None = None
    objective: ObjectiveResult | None = None
    expected_roles: list[str] = Field(default_factory=new_list)  # the objective's by: roles
    # by: roles when none of them reached it
    roles_missed: list[str] = Field(default_factory=new_list)
    per_role: dict[str, Timing] = Field(default_factory=new_dict)
    per_person: dict[str, Timing] = Field(default_factory=new_dict)
    before_t0: bool = False  # only marked before T0

    def headline(self) -> Timing:
        """The number a card shows: with a ``by:`` objective, the time its roles reached it."""
        objective = self.objective
        if objective is not None and objective.by and objective.timing is not None:
            return objective.timing
        return Timing(
            seconds=self.seconds,
            censored=self.censored,
            bound_seconds=self.bound_seconds,
            display=self.display,
            at=self.at,
            by=self.by,
            role=self.role,
            recorded_seconds=self.recorded_seconds,
            before_t0=self.before_t0,
            source=self.source,
        )


class T0(CardModel):
    """Where the clock of every timing starts."""

    at: float
    basis: Literal["first_fault", "impact", "drill_start"]


class MachineTimings(CardModel):
    """What the system did, beside what the people did (all from T0).

    All three are None when nothing watched the system (no probes, no alerts: a tabletop
    drill); ``recovery`` is None when no probe failed.
    """

    impact: Timing | None  # first probe failure
    first_alert: Timing | None  # None also when no alert reached kunren (see alert_source)
    recovery: Timing | None  # every failing probe well again
    alert_source: Literal["received", "none"] = "received"  # none: no alert in the record
    firing_at_t0: list[str] = Field(default_factory=new_list)  # alerts already firing: left out


class FaultAlert(CardModel):
    """The first alert that started firing after a fault was injected, and when it cleared."""

    name: str
    at: float
    seconds: float  # from the injection
    display: str
    cleared_at: float | None = None
    clear_seconds: float | None = None  # from the revert (or restart) to resolved
    clear_display: str = ""


class FaultRun(CardModel):
    """A planned fault against what the record says happened to it."""

    fault: str
    kind: str
    target: str | None = None
    planned_at: float | None = None  # from the scenario; None: not in the scenario
    injected_at: float | None = None
    reverted_at: float | None = None
    targets: list[str] = Field(default_factory=new_list)
    detail: str = ""  # how the targets were chosen and what was done, as the injector said
    failed: str | None = None
    revert_failed: str | None = None
    runbook: str | None = None  # set when a participant's runbook did it: the team's action
    # when it stopped acting: reverted; for one with nothing to undo, its target restarted
    # or every probe well again
    ended_at: float | None = None
    ended_by: Literal["reverted", "restarted", "recovered", "drill_end"] | None = None
    alert: FaultAlert | None = None
    alert_status: Literal["alerted", "not_alerted", "no_source", "not_injected"] = "not_injected"


NextUpdateStatus = Literal["on_time", "late", "no_update", "not_due"]


class NextUpdate(CardModel):
    """The next update a notice promised, held against the first notice sent after it.

    ``no_update``: none went out before the drill ended, so the delay is only a lower bound
    (``bound_seconds``, shown "20+ min late"), never a measured number; ``not_due``: the
    drill ended before the promised time.
    """

    status: NextUpdateStatus
    notice: str | None = None  # the next notice sent
    at: float | None = None  # when it went out
    late_seconds: float | None = None  # measured: on time is 0
    censored: bool = False
    bound_seconds: float | None = None  # no_update: at least this late
    display: str  # "on time", "8 min late", "20+ min late (no update before the drill ended)"


class Notice(CardModel):
    """One customer notice through its life: drafted, approved, sent; and its quality."""

    notice: str
    status: str
    channel: str
    audience: str = ""
    template: str = ""
    recipients: int = 0
    delivered: int = 0
    failed: int = 0
    captured: int = 0
    sender: str = ""
    role: str | None = None
    approver: str | None = None
    drafted_at: float | None = None
    approved_at: float | None = None
    sent_at: float | None = None
    sent_seconds: float | None = None  # from T0
    approval_wait_seconds: float | None = None
    subject: str = ""
    attempts: int = 0  # send attempts: sent, partial and failed events
    failures: int = 0  # attempts that failed, fully or for some recipients
    retries: int = 0  # attempts after the first
    partial: bool = False  # sent, but some recipients failed
    checked: bool = False  # held against the scenario's checklist as it was sent
    lacking: list[str] = Field(default_factory=new_list)  # checklist items it did not meet
    next_update_at: float | None = None  # drill time of the next update it promised
    next_update: NextUpdate | None = None  # that promise against the next notice sent


class ApprovalWait(CardModel):
    notice: str
    seconds: float
    display: str
    approver: str | None = None


class SenderShare(CardModel):
    sender: str
    notices: int
    share: float


class RoleMiss(CardModel):
    role: str
    milestone: str


class TeamHealth(CardModel):
    """Whether the work was spread: one person sending every notice is a finding."""

    notice_senders: int
    notices_sent: int
    top_sender: SenderShare | None = None
    senders: list[SenderShare] = Field(default_factory=new_list)
    people: dict[str, list[str]] = Field(default_factory=new_dict)  # role -> people seen in it
    roles_missed: list[RoleMiss] = Field(default_factory=new_list)


class ReadinessItem(CardModel):
    actor: str
    role: str
    tool: str
    ok: bool
    note: str = ""
    at: float
    wall: str = ""


class NoteItem(CardModel):
    at: float
    actor: str = ""
    text: str


GapKind = Literal[
    "objective_missed",
    "single_sender",
    "lacked_access",
    "understaffed",
    "fault_failed",
    "revert_failed",
    "runbook_failed",
]


class Gap(CardModel):
    """A finding for the retro; ``text`` is English, the other fields let a report translate."""

    kind: GapKind
    text: str
    milestone: str | None = None
    role: str | None = None
    actor: str | None = None
    tool: str | None = None
    seconds: float | None = None
    limit: float | None = None
    count: int | None = None
    needed: int | None = None


class AmendmentItem(CardModel):
    """A facilitator's correction: both times are kept and shown."""

    seq: int
    target_seq: int
    what: str
    recorded_at: float | None
    amended_at: float
    actor: str = ""
    reason: str = ""


class TimelineEntry(Entry):
    """A record timeline entry as the report draws it: spans and amendments added.

    ``text`` is an English rendering kept for readers of the JSON; no report reads it.
    """

    text: str = ""
    until: float | None = None  # a span: fault active, probe failing
    recorded_at: float | None = None  # before an amendment


Shown = TimelineEntry | Mark  # a timeline entry as a surface reads it: model or slim mark


class LoadPoint(CardModel):
    at: float
    users: int
    rps: float | None = None
    failures_per_s: float | None = None
    p95_ms: float | None = None


class InjectItem(CardModel):
    at: float
    kind: str
    text: str = ""
    who: str | None = None
    planned_at: float | None = None


class ScenarioSummary(CardModel):
    id: str
    title: str
    description: str = ""
    duration: float
    tags: list[str] = Field(default_factory=new_list)
    roles: dict[str, int] = Field(default_factory=new_dict)  # role -> min people
    checklist: list[str] = Field(default_factory=new_list)  # what every customer notice must say


class Metric(CardModel):
    """One number a scorer plugin adds; durations carry ``unit`` "s" and a ``display``."""

    name: str
    label: str = ""
    value: float | None
    unit: str = ""
    display: str = ""
    censored: bool = False


class ScorerResult(CardModel):
    """What a scorer plugin returns: numbers and findings, shown in their own report section."""

    metrics: list[Metric] = Field(default_factory=new_list)
    findings: list[str] = Field(default_factory=new_list)


class PluginScore(ScorerResult):
    scorer: str


class TrendPoint(CardModel):
    drill: str
    started: str
    seconds: float | None
    censored: bool
    bound_seconds: float | None = None
    display: str
    before_t0: bool = False
    source: str | None = None  # who produced the mark
    provenance: DrillProvenance | None = None  # what kind of drill, on which clock


Change = Literal["improved", "worse", "same", "unknown", "first"]


class TrendLine(CardModel):
    milestone: str
    label: str
    label_ja: str
    points: list[TrendPoint]
    display: str  # "60+ min → 44 min → 31 min"
    change: Change
    improved: bool | None
    within_seconds: float | None = None


class Trend(CardModel):
    """Drills of one series (scenario id) in the order they were run."""

    series: str
    drills: list[str]
    lines: list[TrendLine]
    notices: list[str] = Field(default_factory=new_list)  # earlier drills that could not be read
    not_comparable: list[str] = Field(default_factory=new_list)  # stopped before T0: left out
    provenance: dict[str, DrillProvenance] = Field(default_factory=new_dict)  # drill -> kind, clock


class Scorecard(CardModel):
    drill: str
    series: str
    title: str
    started: str
    source: str
    duration: float
    ended_at: float
    ended: Literal["ended", "aborted", "running"]
    end_reason: str = ""
    t0: T0
    observed_seconds: float = 0.0  # T0 to the end: how long the drill was watched
    provenance: DrillProvenance = DrillProvenance(kind="live", clock="real")
    objectives_open: list[str] = Field(default_factory=new_list)  # deadline not passed at the end
    objectives_met: bool
    objectives_missed: list[str] = Field(default_factory=new_list)
    milestones: dict[str, MilestoneResult]
    machine: MachineTimings
    team_health: TeamHealth
    scenario: ScenarioSummary
    faults: list[FaultRun] = Field(default_factory=new_list)
    injects: list[InjectItem] = Field(default_factory=new_list)
    notices: list[Notice] = Field(default_factory=new_list)
    approval_waits: list[ApprovalWait] = Field(default_factory=new_list)
    readiness: list[ReadinessItem] = Field(default_factory=new_list)
    gaps: list[Gap] = Field(default_factory=new_list)
    notes: list[NoteItem] = Field(default_factory=new_list)
    action_items: list[NoteItem] = Field(default_factory=new_list)
    amendments: list[AmendmentItem] = Field(default_factory=new_list)
    timeline: list[TimelineEntry] = Field(default_factory=new_list)
    load: list[LoadPoint] = Field(default_factory=new_list)
    scorers: list[PluginScore] = Field(default_factory=new_list)
    warnings: list[str] = Field(default_factory=new_list)
    trend: Trend | None = None  # set by the report, which knows the earlier drills
    record: str | None = None  # where the raw record lives; set by whoever read it
    # The timeline as slim marks, for the HTML report of a long record (never in the JSON)
    _marks: list[Mark] | None = PrivateAttr(default=None)

    def keep_marks(self, marks: list[Mark]) -> None:
        """Hold the timeline as ``marks`` (``score(..., timeline="marks")``)."""
        self._marks = marks

    def entries(self) -> Sequence[Shown]:
        """The timeline, as marks when the card was scored for them, else ``timeline``."""
        return self._marks if self._marks is not None else self.timeline
