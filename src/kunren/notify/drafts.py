"""Notices between drafting and sending: the stored wording, each notice's state, and the
values the notice flow hands back (preview, send result).

The wording of a drafted notice is stored in the drill folder (``notices/<id>/notice.json``)
so the approver in another process (the page, a terminal) approves exactly that text, and the
send uses it unchanged. A notice's state is never kept anywhere else than the event log: it
is derived from the ``notification`` events sharing its ``notice`` id, so every process sees
the same state and the record stays the single source of truth.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kunren.errors import EventLogError, UsageError
from kunren.factories import new_dict, new_list
from kunren.notify.checklist import CheckResult
from kunren.notify.message import RecipientFailure
from kunren.notify.templates import TemplateWarning
from kunren.record.events import Event, Notification

DRAFT_FILE = "notice.json"


class NoticeRequest(BaseModel):
    """What a sender asks for: which template, language, audience, variables and channels."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    template: str
    lang: str | None = None  # None: the scenario's language, else the template's first
    audience: str | None = None  # None: the scenario's only audience
    vars: dict[str, str] = Field(default_factory=new_dict)
    channels: list[str] = Field(default_factory=new_list)  # empty: the scenario's channels


class Wording(BaseModel):
    """One language version of a notice, already marked [DRILL]."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str
    body: str


class NoticeDraft(BaseModel):
    """A rendered notice as drafted: the exact wording the approver sees and the send uses.
    ``subject``/``body`` are the version in ``lang``; ``versions`` holds every language."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    notice: str
    template: str
    lang: str
    audience: str
    vars: dict[str, str]  # every value the wording was rendered with
    channels: list[str]
    subject: str
    body: str
    author: str
    role: str | None = None
    warnings: list[TemplateWarning] = Field(default_factory=new_list)
    versions: dict[str, Wording] = Field(default_factory=new_dict)  # language -> wording
    checks: list[CheckResult] = Field(default_factory=new_list)  # the scenario's checklist
    lacking: list[str] = Field(default_factory=new_list)  # checklist items not met

    def wording(self, lang: str) -> Wording:
        return self.versions.get(lang) or Wording(subject=self.subject, body=self.body)


class NoticeState(BaseModel):
    """Where one notice stands, from the log: drafted, approved, rejected, sent or failed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    notice: str
    status: str
    template: str = ""
    lang: str = ""
    audience: str = ""
    subject: str = ""
    author: str = ""
    author_role: str | None = None
    drafted_at: float | None = None
    approved_at: float | None = None
    approver: str | None = None
    rejected_at: float | None = None
    reason: str = ""
    sent_at: float | None = None
    sender: str = ""
    channels: list[str] = Field(default_factory=new_list)
    recipients: int = 0
    delivered: int = 0
    captured: int = 0
    failed: int = 0  # recipients still not reached (after any retries)
    outstanding: dict[str, list[str]] = Field(default_factory=new_dict)  # channel -> not reached
    reasons: list[str] = Field(default_factory=new_list)  # why the last attempts failed
    languages: dict[str, int] = Field(default_factory=new_dict)  # recipients per language version
    lacking: list[str] = Field(default_factory=new_list)

    @property
    def retryable(self) -> bool:
        """Sent, but some recipients were not reached: a retry sends to them only."""
        return self.sent_at is not None and bool(self.outstanding)

    @property
    def approval_wait(self) -> float | None:
        """Seconds the notice waited for its approval (or rejection)."""
        decided = self.approved_at if self.approved_at is not None else self.rejected_at
        if self.drafted_at is None or decided is None:
            return None
        return decided - self.drafted_at


class Preview(BaseModel):
    """What a notice would look like and whom it would reach; nothing is recorded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    notice: str | None  # set when previewing a stored draft
    template: str
    lang: str
    audience: str
    subject: str
    body: str
    warnings: list[TemplateWarning]
    missing: list[str]  # variables nobody gave: shown as {{ name }}; drafting/sending refuses
    checks: list[CheckResult] = Field(default_factory=new_list)  # the scenario's checklist
    versions: dict[str, int] = Field(default_factory=new_dict)  # recipients per language version
    recipient_count: int
    allowed_count: int  # really delivered by address channels; the rest are captured
    captured_count: int
    languages: dict[str, int]
    channels: list[str]
    needs_approval: bool
    approvers: list[str]  # roles that may approve
    live: bool
    vars: dict[str, str]  # the values the preview used


class ChannelResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str
    event: Notification
    failures: list[RecipientFailure] = Field(default_factory=new_list)
    error: str = ""


class SendResult(BaseModel):
    """One send: a ``notification`` event per channel, with each failed recipient's reason."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    notice: str
    results: list[ChannelResult]

    @property
    def events(self) -> list[Notification]:
        return [r.event for r in self.results]

    @property
    def failed_count(self) -> int:
        return sum(len(r.failures) for r in self.results)

    @property
    def ok(self) -> bool:
        return all(r.event.status == "sent" and not r.failures for r in self.results)


def new_notice_id(root: Path) -> str:
    for _ in range(100):
        notice = f"n-{secrets.token_hex(3)}"
        if not (root / notice).exists():
            return notice
    raise EventLogError(f"{root}: cannot find a free notice id")


class DraftStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, draft: NoticeDraft) -> Path:
        folder = self.root / draft.notice
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / DRAFT_FILE
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(draft.model_dump_json(indent=2))
        return path

    def load(self, notice: str) -> NoticeDraft:
        path = self.root / notice / DRAFT_FILE
        try:
            return NoticeDraft.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise UsageError(f"unknown notice {notice!r}") from exc
        except ValidationError as exc:
            raise EventLogError(f"{path}: not a kunren notice draft") from exc


def notice_states(events: Iterable[Event]) -> dict[str, NoticeState]:
    """Every notice in the log, in the order first seen, with its current state."""
    grouped: dict[str, list[Notification]] = {}
    for event in events:
        if isinstance(event, Notification) and event.notice:
            grouped.setdefault(event.notice, []).append(event)
    return {notice: _state(notice, group) for notice, group in grouped.items()}


def _state(notice: str, events: list[Notification]) -> NoticeState:
    first = events[0]
    state: dict[str, object] = {
        "notice": notice,
        "status": first.status,
        "template": first.template,
        "lang": first.lang,
        "audience": first.audience,
        "subject": first.subject,
        "author": first.sender,
        "author_role": first.role,
    }
    sends = [e for e in events if e.status in ("sent", "failed")]
    for event in events:
        if event.status == "drafted":
            state["drafted_at"] = event.at
        elif event.status == "approved":
            state.update(approved_at=event.at, approver=event.approver, status="approved")
        elif event.status == "rejected":
            state.update(
                rejected_at=event.at, approver=event.approver, reason=event.note, status="rejected"
            )
    if sends:
        sent = any(e.status == "sent" for e in sends)
        last = {e.channel: e for e in sends}  # a retry attempts exactly what was outstanding
        outstanding = {channel: e.failed for channel, e in last.items() if e.failed}
        state.update(
            status="sent" if sent else "failed",
            sent_at=sends[0].at,
            sender=sends[0].sender,
            channels=list(last),
            recipients=max(e.recipients for e in sends),
            delivered=sum(e.delivered for e in sends),
            captured=max(e.captured for e in sends),
            failed=sum(len(f) for f in outstanding.values()),
            outstanding=outstanding,
            reasons=sorted({e.note for e in last.values() if e.failed and e.note}),
            languages=sends[0].languages,
            lacking=sends[0].lacking,
        )
    return NoticeState.model_validate(state)
