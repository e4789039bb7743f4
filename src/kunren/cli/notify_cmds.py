"""``kunren notify``: send, draft, approve or reject a customer notice from a terminal.

The same flow as the participant page (both use ``kunren.notify.NoticeService``): the
recipient count and the full wording are shown before anything is sent or recorded, and
each step is written into the drill's log with the drill time, beside the conductor.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kunren.cli.options import drills_option
from kunren.errors import GuardrailError, KunrenError, UsageError

if TYPE_CHECKING:
    from kunren.notify import NoticeService, NoticeState, Preview, SendResult
    from kunren.runtime.clock import Clock


def _service(
    drill: str, drills_root: Path, at: str | None, live: bool, need_time: bool
) -> NoticeService:
    from kunren.durations import parse_offset
    from kunren.notify import NoticeService
    from kunren.record.attach import entry_clock, open_drill
    from kunren.record.folders import load_snapshot, read_meta
    from kunren.record.recorder import Recorder
    from kunren.runtime.clock import VirtualClock
    from kunren.runtime.context import drill_context

    log = open_drill(drill, drills_root)
    events = log.read()
    try:
        offset = parse_offset(at) if at is not None else None
    except ValueError as exc:
        raise UsageError(f"--at: {exc}") from None
    clock: Clock
    if need_time:
        clock = entry_clock(
            events, offset, need_time=True, what="this notice", late_allowed=False
        ).clock
    else:  # only listing: nothing is recorded, any time will do
        clock = VirtualClock(start=events[-1].at if events else 0.0)
    loaded = load_snapshot(log.drill_dir)
    # relative template and audience paths resolve against the scenario's own folder
    origin = Path(read_meta(log.drill_dir).scenario_dir)
    base = origin if origin.is_dir() else loaded.dir
    ctx = drill_context(loaded, clock=clock, drill_dir=log.drill_dir, scenario_dir=base)
    return NoticeService(ctx, Recorder(log, clock), live=live)


def _print_preview(preview: Preview) -> None:
    click.echo(f"Notice: {preview.template} ({preview.lang}) to {preview.audience}")
    if preview.live:
        reach = f"LIVE: all {preview.allowed_count} really delivered"
    else:
        reach = (
            f"{preview.allowed_count} really delivered, {preview.captured_count} captured: "
            "not on the drill allowlist"
        )
    click.echo(f"Recipients: {preview.recipient_count} ({reach})")
    click.echo(f"Channels: {', '.join(preview.channels)}")
    if preview.needs_approval:
        click.echo(f"Approval: by {', '.join(preview.approvers)}")
    click.echo(f"Subject: {preview.subject}")
    click.echo("")
    click.echo(preview.body.rstrip("\n"))
    click.echo("")
    for warning in preview.warnings:
        click.echo(f"Warning: {warning.message}")


def _confirm(preview: Preview, yes: bool) -> None:
    if yes:
        return
    if preview.live:
        question = f"LIVE: send to {preview.allowed_count} real recipients?"
    else:
        question = f"Send this notice ({preview.recipient_count} recipients)?"
    if not click.confirm(question, default=False):
        raise KunrenError("not sent; nothing was recorded")


def _confirm_retry(state: NoticeState, yes: bool) -> None:
    """A notice that reached some but not all: only those it missed are sent to again."""
    missed = [address for addresses in state.outstanding.values() for address in addresses]
    click.echo(
        f"Notice {state.notice} did not reach {len(missed)} recipient(s); "
        "sending again to them only:"
    )
    for channel, addresses in state.outstanding.items():
        click.echo(f"  {channel}: {', '.join(addresses)}")
    for reason in state.reasons:
        click.echo(f"  last time: {reason}")
    if not yes and not click.confirm(f"Send again to {len(missed)}?", default=False):
        raise KunrenError("not sent; nothing was recorded")


def _print_result(result: SendResult, retry: str = "") -> None:
    first = result.events[0] if result.events else None
    when = ""
    if first is not None:
        from kunren.durations import format_clock

        when = f" at {format_clock(first.at)}"
    click.echo(f"Sent notice {result.notice}{when}.")
    for item in result.results:
        event = item.event
        parts = [
            f"{n} {label}"
            for n, label in (
                (event.delivered, "delivered"),
                (event.captured, "captured"),
                (len(event.failed), "failed"),
            )
            if n
        ]
        status = "FAILED: " if event.status == "failed" else ""
        click.echo(f"  {item.channel}: {status}{', '.join(parts) or 'nothing to send'}")
        for failure in item.failures:
            click.echo(f"    {failure.recipient}: {failure.reason}")
    if result.failed_count:
        again = f"; send again to them only: {retry} {result.notice}" if retry else ""
        raise KunrenError(f"{result.failed_count} recipient(s) failed; the others were sent{again}")


def _print_list(service: NoticeService) -> None:
    click.echo("Templates:")
    for info in service.templates():
        names = ", ".join(info.variables) or "-"
        click.echo(f"  {info.name}: {', '.join(info.languages)} (variables: {names})")
    click.echo("Audiences:")
    for audience in service.audiences():
        click.echo(
            f"  {audience.name}: {audience.count} recipients, {audience.allowed} on the drill "
            f"allowlist ({audience.file})"
        )
    click.echo(f"Channels: {', '.join(service.channels())}")
    if service.needs_approval:
        click.echo(f"Approval: by {', '.join(service.approvers)}")
    states = service.notices()
    click.echo("Notices:" if states else "Notices: none yet")
    for state in states:
        click.echo(
            f"  {state.notice}: {state.status}, {state.template} ({state.lang}) to "
            f"{state.audience}, drafted by {state.author or '-'}"
        )


def _mode(template: str | None, modes: Mapping[str, object]) -> str:
    """The one action asked for: send (default), draft, approve, reject, send-id or list."""
    chosen = [flag for flag, value in modes.items() if value]
    if len(chosen) > 1:
        raise UsageError(f"give only one of {', '.join(chosen)}")
    mode = chosen[0].lstrip("-") if chosen else "new"
    if mode in ("new", "draft") and template is None:
        raise UsageError("give a TEMPLATE (kunren notify --drill DRILL --list shows them)")
    if mode not in ("new", "draft") and template is not None:
        raise UsageError(f"--{mode} takes no TEMPLATE")
    return mode


@click.command()
@click.argument("template", required=False)
@click.option("--drill", required=True, help="Drill folder or drill id.")
@drills_option()
@click.option("--audience", help="Audience name (default: the scenario's only audience).")
@click.option("--as", "person", help="Who is acting (drafting, approving or sending).")
@click.option("--role", help="Their role in the drill.")
@click.option("--lang", help="Template language (default: the scenario's).")
@click.option("--channel", "channels", multiple=True, help="Channel (repeatable).")
@click.option("--var", "pairs", multiple=True, metavar="NAME=VALUE", help="Template variable.")
@click.option("--at", help="Drill time (12:30, 1:02:03 or 5m) instead of now.")
@click.option(
    "--live-notifications",
    "live",
    is_flag=True,
    help="Send to the real audience, not only the drill allowlist (asks for confirmation).",
)
@click.option("--yes", is_flag=True, help="Do not ask before sending.")
@click.option("--draft", is_flag=True, help="Record a draft that waits for approval.")
@click.option("--approve", "approve_id", metavar="NOTICE", help="Approve a drafted notice.")
@click.option("--reject", "reject_id", metavar="NOTICE", help="Reject a drafted notice.")
@click.option("--send", "send_id", metavar="NOTICE", help="Send a drafted (approved) notice.")
@click.option("--reason", default="", help="Why a notice is rejected.")
@click.option("--list", "list_only", is_flag=True, help="List templates, audiences and notices.")
def notify(
    template: str | None,
    drill: str,
    drills_root: Path,
    audience: str | None,
    person: str | None,
    role: str | None,
    lang: str | None,
    channels: tuple[str, ...],
    pairs: tuple[str, ...],
    at: str | None,
    live: bool,
    yes: bool,
    draft: bool,
    approve_id: str | None,
    reject_id: str | None,
    send_id: str | None,
    reason: str,
    list_only: bool,
) -> None:
    """Send a customer notice from TEMPLATE, or draft, approve, reject or send one.

    \b
    Shows the recipient count and the full notice before anything is sent. Every notice is
    marked [DRILL]; only addresses on the scenario's drill_allowlist are really delivered,
    the rest are captured into the drill folder (notices/), unless --live-notifications.
    \b
      kunren notify investigating --drill D --as alice --role support --var service=Shop
      kunren notify investigating --drill D --as alice --role support --draft
      kunren notify --drill D --approve n-1a2b3c --as carol --role commander
      kunren notify --drill D --send n-1a2b3c --as alice --role support
    """
    from kunren.notify.variables import parse_assignments

    modes = {
        "--draft": draft,
        "--approve": approve_id,
        "--reject": reject_id,
        "--send": send_id,
        "--list": list_only,
    }
    mode = _mode(template, modes)
    service = _service(drill, drills_root, at, live, need_time=mode != "list")
    if mode == "list":
        _print_list(service)
        return
    if not person or not role:
        raise UsageError("give who is acting and their role: --as NAME --role ROLE")
    roles = service.ctx.scenario.roles
    if roles and role not in roles:
        raise UsageError(f"unknown role {role!r}; this drill has: {', '.join(roles)}")
    if mode in ("new", "draft"):
        assert template is not None
        _new_notice(
            service,
            mode,
            template,
            drill,
            person,
            role,
            lang,
            audience,
            parse_assignments(pairs),
            list(channels),
            yes,
        )
    elif mode == "approve":
        assert approve_id is not None
        _decide(service, approve_id, person, role, drill, approve=True)
    elif mode == "reject":
        assert reject_id is not None
        _decide(service, reject_id, person, role, drill, approve=False, reason=reason)
    else:
        assert send_id is not None
        state = service.notice(send_id)
        if state.retryable:
            _confirm_retry(state, yes)
        else:
            preview = service.preview_notice(send_id)
            _print_preview(preview)
            _confirm(preview, yes)
        _print_result(
            service.send(send_id, sender=person, role=role, channels=list(channels) or None),
            retry=f"kunren notify --drill {drill} --as {person} --role {role} --send",
        )


def _new_notice(
    service: NoticeService,
    mode: str,
    template: str,
    drill: str,
    person: str,
    role: str,
    lang: str | None,
    audience: str | None,
    values: dict[str, str],
    channels: list[str],
    yes: bool,
) -> None:
    from kunren.durations import format_clock
    from kunren.notify import NoticeRequest

    if mode == "new" and service.needs_approval:
        raise GuardrailError(
            f"notices in this drill need approval by {', '.join(service.approvers)}: "
            "draft it first with --draft"
        )
    preview = service.preview(template, lang, audience, values, channels, strict=True)
    _print_preview(preview)
    if mode == "draft":
        event = service.draft(
            template,
            preview.lang,
            preview.audience,
            values,
            author=person,
            role=role,
            channels=channels,
        )
        click.echo(f"Drafted notice {event.notice} at {format_clock(event.at)}.")
        if service.needs_approval:
            approver = service.approvers[0]
            click.echo(f"It waits for approval by {', '.join(service.approvers)}:")
            click.echo(
                f"  kunren notify --drill {drill} --approve {event.notice} --as NAME "
                f"--role {approver}"
            )
        else:
            click.echo(
                f"Send it: kunren notify --drill {drill} --send {event.notice} --as {person} "
                f"--role {role}"
            )
        return
    _confirm(preview, yes)
    request = NoticeRequest(
        template=template,
        lang=preview.lang,
        audience=preview.audience,
        vars=values,
        channels=channels,
    )
    _print_result(
        service.send(request, sender=person, role=role),
        retry=f"kunren notify --drill {drill} --as {person} --role {role} --send",
    )


def _decide(
    service: NoticeService,
    notice_id: str,
    person: str,
    role: str,
    drill: str,
    *,
    approve: bool,
    reason: str = "",
) -> None:
    from kunren.durations import format_duration

    preview = service.preview_notice(notice_id)
    _print_preview(preview)
    state = service.notice(notice_id)
    if approve:
        event = service.approve(notice_id, person, role)
    else:
        event = service.reject(notice_id, person, role, reason)
    waited = format_duration(event.at - (state.drafted_at or event.at))
    verb = "Approved" if approve else "Rejected"
    because = f": {reason}" if reason and not approve else ""
    click.echo(f"{verb} notice {notice_id} (drafted by {state.author}, waited {waited}){because}.")
    if approve:
        click.echo(
            f"Send it: kunren notify --drill {drill} --send {notice_id} --as {state.author} "
            f"--role {state.author_role or 'ROLE'}"
        )


COMMANDS: list[click.Command] = [notify]
