"""The notice flow, one class used by the terminal (``kunren notify``) and the participant page.

    preview  ->  draft  ->  approve | reject  ->  send
                 (or send directly when the scenario asks for no approval)

Each step is recorded as a ``notification`` event sharing the notice id (statuses drafted,
approved, rejected, sent, failed), so the scorer can time the first notice and the approval
wait from the log alone. Safety is applied on the way, once, for every channel: the
``[DRILL]`` marker when the wording is rendered, and the drill allowlist (in ``dispatch``)
deciding who is really reached and who is captured instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path

from kunren.errors import GuardrailError, UsageError
from kunren.notify import variables as notice_vars
from kunren.notify.audiences import AudienceBook, AudienceInfo
from kunren.notify.base import AnyChannel
from kunren.notify.capture import NOTICES_DIR, CaptureSink
from kunren.notify.compose import Composer, language_counts
from kunren.notify.delivery import ChannelRound
from kunren.notify.dispatch import Dispatcher, make_channel
from kunren.notify.drafts import (
    ChannelResult,
    DraftStore,
    NoticeDraft,
    NoticeRequest,
    NoticeState,
    Preview,
    SendResult,
    new_notice_id,
    notice_states,
)
from kunren.notify.message import DRILL_MARKER, OutgoingNotice
from kunren.notify.safety import Allowlist
from kunren.notify.templates import TemplateInfo, TemplateSet
from kunren.record.events import Event, Notification
from kunren.record.recorder import Recorder
from kunren.runtime.context import DrillContext
from kunren.scenarios.models import Notifications


class NoticeService:
    """Templates, audiences, preview, approval and sending for one drill."""

    def __init__(self, ctx: DrillContext, recorder: Recorder, live: bool = False) -> None:
        if ctx.drill_dir is None:
            raise UsageError("notices need a drill folder (DrillContext.drill_dir)")
        self.ctx = ctx
        self.recorder = recorder
        self.live = live
        self.drill_dir: Path = ctx.drill_dir
        self.notifications: Notifications = ctx.scenario.notifications or Notifications()
        lang = ctx.scenario.lang
        self._templates = TemplateSet(self.notifications, self._resolve, lang)
        self._audiences = AudienceBook(self.notifications, self._resolve, lang)
        self.allowlist = Allowlist.of(self.notifications.drill_allowlist)
        self.drafts = DraftStore(self.drill_dir / NOTICES_DIR)
        self.dispatcher = Dispatcher(ctx, self.allowlist, CaptureSink(self.drill_dir), live)
        self.composer = Composer(
            ctx.scenario, self._templates, self._audiences, self._channel_names
        )

    # ------------------------------------------------------------ what there is

    @property
    def needs_approval(self) -> bool:
        return self.notifications.approval is not None

    @property
    def approvers(self) -> list[str]:
        approval = self.notifications.approval
        return list(approval.by) if approval is not None else []

    def templates(self) -> list[TemplateInfo]:
        return self._templates.info()

    def audiences(self) -> list[AudienceInfo]:
        return self._audiences.info(self.allowlist, self.live)

    def channels(self) -> list[str]:
        """The scenario's channels: used when a notice names none."""
        return [spec.name for spec in self.notifications.channels]

    def variables(self, given: Mapping[str, str] | None = None) -> dict[str, str]:
        """Every value a template may use right now (drill < scenario < ``given``)."""
        return notice_vars.gather(
            self.ctx.scenario, self._events(), self.recorder.clock.wall(), given
        )

    def notices(self) -> list[NoticeState]:
        return list(notice_states(self._events()).values())

    def notice(self, notice_id: str) -> NoticeState:
        state = notice_states(self._events()).get(notice_id)
        if state is None:
            raise UsageError(f"unknown notice {notice_id!r}")
        return state

    # ------------------------------------------------------------ preview and draft

    def preview(
        self,
        template: str,
        lang: str | None = None,
        audience: str | None = None,
        vars: Mapping[str, str] | None = None,
        channels: Sequence[str] | None = None,
        *,
        strict: bool = False,
    ) -> Preview:
        """The notice as it would go out now. Missing variables are listed in ``missing`` and
        shown as ``{{ name }}``; with ``strict`` they raise InputError instead."""
        request = NoticeRequest(
            template=template,
            lang=lang,
            audience=audience,
            vars=dict(vars or {}),
            channels=list(channels or []),
        )
        draft, missing = self._render(request, author="", role=None, strict=strict)
        return self._preview(draft, missing)

    def preview_notice(self, notice_id: str) -> Preview:
        """A drafted notice exactly as stored (what the approver approves and the send uses)."""
        self.notice(notice_id)
        return self._preview(self.drafts.load(notice_id), [])

    def draft(
        self,
        template: str,
        lang: str | None = None,
        audience: str | None = None,
        vars: Mapping[str, str] | None = None,
        *,
        author: str,
        role: str | None = None,
        channels: Sequence[str] | None = None,
    ) -> Notification:
        """Render strictly, store the wording and record ``drafted``; returns the event."""
        request = NoticeRequest(
            template=template,
            lang=lang,
            audience=audience,
            vars=dict(vars or {}),
            channels=list(channels or []),
        )
        draft = self._make_draft(request, author, role)
        count = self._audiences.load(draft.audience).count
        return self.recorder.record(
            self._event(
                draft,
                "drafted",
                sender=author,
                role=role,
                recipients=count,
                channel=",".join(draft.channels),
            )
        )

    def approve(self, notice_id: str, approver: str, role: str | None) -> Notification:
        """Record ``approved``; ``role`` must be one of ``approval.by``, and the approver must
        not be the author. As in every notification event, ``sender`` and ``role`` name who
        acted in this step (here the approver, also in ``approver``)."""
        draft = self._decidable(notice_id, approver, role)
        return self.recorder.record(
            self._event(
                draft,
                "approved",
                sender=approver,
                role=role,
                approver=approver,
                recipients=self._audiences.load(draft.audience).count,
            )
        )

    def reject(
        self, notice_id: str, approver: str, role: str | None, reason: str = ""
    ) -> Notification:
        """Record ``rejected`` with ``reason`` in ``note``; the notice can no longer be sent."""
        draft = self._decidable(notice_id, approver, role)
        return self.recorder.record(
            self._event(
                draft,
                "rejected",
                sender=approver,
                role=role,
                approver=approver,
                recipients=self._audiences.load(draft.audience).count,
                note=reason,
            )
        )

    # ------------------------------------------------------------ send

    def send(
        self,
        notice: str | NoticeRequest,
        *,
        sender: str,
        role: str | None = None,
        channels: Sequence[str] | None = None,
    ) -> SendResult:
        """Blocking form of ``send_async`` (not from inside a running event loop)."""
        return asyncio.run(self.send_async(notice, sender=sender, role=role, channels=channels))

    async def send_async(
        self,
        notice: str | NoticeRequest,
        *,
        sender: str,
        role: str | None = None,
        channels: Sequence[str] | None = None,
    ) -> SendResult:
        """Send a drafted (and, if required, approved) notice, or a new one from a request.

        Every channel is set up before anything is sent, so a configuration mistake sends
        nothing; after that, a failing channel or recipient never stops the others.
        """
        draft, approver, outstanding = self._sendable(notice, sender, role)
        names = list(channels) if channels else draft.channels
        if outstanding is not None:  # a retry: only the channels that did not reach everyone
            names = [name for name in names if name in outstanding]
        for name in names:
            self._channel(name).prepare()  # a missing secret fails here, before anything is sent
        if isinstance(notice, NoticeRequest):
            self.drafts.save(draft)  # the wording of a direct send is kept like a draft's
        everyone = self._audiences.load(draft.audience).recipients
        at, wall = round(self.recorder.clock.now(), 3), self.recorder.clock.wall()
        promised = notice_vars.promised_at(self.ctx.scenario, draft.vars, at, wall)
        base = OutgoingNotice(
            notice=draft.notice,
            drill=notice_vars.drill_id(self._events()),
            scenario_title=self.ctx.scenario.title,
            template=draft.template,
            lang=draft.lang,
            audience=draft.audience,
            subject=draft.subject,
            body=draft.body,
            sender=sender,
            role=role,
            approver=approver,
            at=at,
            wall=wall.isoformat(),
        )
        rounds = [
            ChannelRound(
                make=partial(self._channel, name),
                dispatcher=self.dispatcher,
                draft=draft,
                default_lang=self._audiences.default_lang,
                missed=None if outstanding is None else outstanding.get(name, []),
            )
            for name in names
        ]
        sent = await asyncio.gather(*(each.send(base, everyone) for each in rounds))
        results = []
        for name, (count, delivery, languages) in zip(names, sent, strict=True):
            status = "failed" if delivery.failed and not delivery.delivered else "sent"
            event = self.recorder.record(
                self._event(
                    draft,
                    status,
                    sender=sender,
                    role=role,
                    approver=approver,
                    recipients=count,
                    channel=name,
                    delivered=len(delivery.delivered),
                    failed=[f.recipient for f in delivery.failed],
                    captured=len(delivery.captured),
                    live=self.live,
                    note=delivery.error,
                    languages=languages,
                    lacking=draft.lacking,
                    next_update_at=promised,
                )
            )
            results.append(
                ChannelResult(
                    channel=name, event=event, failures=delivery.failed, error=delivery.error
                )
            )
        return SendResult(notice=draft.notice, results=results)

    # ------------------------------------------------------------ helpers

    def _events(self) -> list[Event]:
        return self.recorder.log.read()

    def _resolve(self, relative: str) -> Path:
        """Scenario paths are relative to the scenario folder, else to the workspace (cwd)."""
        path = Path(relative)
        if path.is_absolute():
            return path
        candidates = [self.ctx.resolve_path(relative), Path.cwd() / path]
        return next((c for c in candidates if c.exists()), candidates[0])

    def _channel_names(self, request: NoticeRequest) -> list[str]:
        return list(request.channels) or self.channels()

    def _channel(self, name: str) -> AnyChannel:
        return make_channel(self.ctx, self.notifications, name)

    def _render(
        self, request: NoticeRequest, author: str, role: str | None, strict: bool
    ) -> tuple[NoticeDraft, list[str]]:
        return self.composer.render(request, self.variables(request.vars), author, role, strict)

    def _preview(self, draft: NoticeDraft, missing: list[str]) -> Preview:
        group = self._audiences.load(draft.audience)
        allowed, held = self.allowlist.split(group.recipients, self.live)
        return Preview(
            notice=draft.notice or None,
            template=draft.template,
            lang=draft.lang,
            audience=draft.audience,
            subject=draft.subject,
            body=draft.body,
            warnings=draft.warnings,
            missing=missing,
            recipient_count=group.count,
            allowed_count=len(allowed),
            captured_count=len(held),
            languages=group.languages(self._audiences.default_lang),
            channels=draft.channels,
            needs_approval=self.needs_approval,
            approvers=self.approvers,
            live=self.live,
            vars=draft.vars,
            checks=draft.checks,
            versions=language_counts(group.recipients, draft, self._audiences.default_lang),
        )

    def _make_draft(
        self, request: NoticeRequest, author: str, role: str | None, store: bool = True
    ) -> NoticeDraft:
        rendered, _ = self._render(request, author, role, strict=True)
        draft = rendered.model_copy(update={"notice": new_notice_id(self.drafts.root)})
        for name in draft.channels:
            self._channel(name)  # an unknown or misconfigured channel fails at drafting
        if store:
            self.drafts.save(draft)
        return draft

    def _decidable(self, notice_id: str, approver: str, role: str | None) -> NoticeDraft:
        state = self.notice(notice_id)
        if self.approvers and role not in self.approvers:
            raise GuardrailError(
                f"{approver} ({role or 'no role'}) may not decide on notices: "
                f"approval is by {', '.join(self.approvers)}"
            )
        if state.status != "drafted":
            raise GuardrailError(f"notice {notice_id} is {state.status} already")
        draft = self.drafts.load(notice_id)
        if approver == draft.author:
            raise GuardrailError(f"{approver} drafted notice {notice_id}: someone else approves")
        return draft

    def _sendable(
        self, notice: str | NoticeRequest, sender: str, role: str | None
    ) -> tuple[NoticeDraft, str | None, dict[str, list[str]] | None]:
        """(wording, approver, recipients still to reach per channel: None for a first send)."""
        if isinstance(notice, NoticeRequest):
            if self.needs_approval:
                raise GuardrailError(
                    f"notices in this drill need approval by {', '.join(self.approvers)}: "
                    "draft the notice first"
                )
            return self._make_draft(notice, sender, role, store=False), None, None
        state = self.notice(notice)
        if state.status == "rejected":
            raise GuardrailError(f"notice {notice} was rejected by {state.approver}")
        if state.sent_at is not None:
            if not state.retryable:
                raise GuardrailError(f"notice {notice} was sent already, and reached everyone")
            return self.drafts.load(notice), state.approver, state.outstanding
        if self.needs_approval and state.approved_at is None:
            raise GuardrailError(
                f"notice {notice} waits for approval by {', '.join(self.approvers)}"
            )
        return self.drafts.load(notice), state.approver, None

    def _event(self, draft: NoticeDraft, status: str, **fields: object) -> Notification:
        base: dict[str, object] = {
            "notice": draft.notice,
            "status": status,
            "template": draft.template,
            "lang": draft.lang,
            "audience": draft.audience,
            "subject": draft.subject,
            "marker": DRILL_MARKER,
        }
        base.update(fields)
        return Notification.model_validate(base)
