"""One line of text per recorded event, for the live console and `kunren log`.

Pure formatting (no printing): the CLI decides where the lines go.
"""

from __future__ import annotations

from kunren.durations import format_clock
from kunren.record import events as ev


def describe(event: ev.Event) -> str:
    match event:
        case ev.DrillStarted():
            speed = "" if event.clock == "virtual" else f", speed {event.speed:g}"
            clock = f"{event.clock} clock{speed}"  # virtual time has no speed
            return f"drill {event.drill} started ({event.title}; {clock})"
        case ev.DrillEnded():
            return f"drill ended: {event.reason}"
        case ev.DrillAborted():
            return f"drill ABORTED: {event.reason}"
        case ev.DrillResumed():
            return f"drill resumed: {event.reason}"
        case ev.FaultInjecting():
            targets = ", ".join(event.planned) or "-"
            return f"injecting {event.fault} ({event.kind}) on {targets}"
        case ev.FaultInjected():
            return f"injected {event.fault} on {', '.join(event.targets) or '-'}"
        case ev.FaultFailed():
            return f"fault {event.fault} FAILED: {event.error}"
        case ev.FaultReverting():
            return f"reverting {event.fault}"
        case ev.FaultReverted():
            return f"reverted {event.fault}" + (f": {event.detail}" if event.detail else "")
        case ev.FaultRevertFailed():
            return f"REVERT FAILED for {event.fault}: {event.error}"
        case ev.ServiceStarted():
            return f"service {event.name} started (pid {event.pid})"
        case ev.ServiceStopped():
            return f"service {event.name} stopped" + (f" ({event.detail})" if event.detail else "")
        case ev.ServiceExited():
            how = f"killed by signal {-event.code}" if event.code < 0 else f"code {event.code}"
            return f"service {event.name} EXITED ({how})"
        case ev.LoadLost():
            then = "load STOPPED, the drill goes on" if event.load_stopped else "the rest go on"
            return f"load: Locust {event.process} LOST ({then}): {event.detail}"
        case ev.LoadStage():
            planned = " (planned; no load on the virtual clock)" if event.planned else ""
            return f"load: {event.users} users, spawn {event.spawn_rate:g}/s{planned}"
        case ev.LoadStats():
            p95 = f", p95 {event.p95_ms:.0f} ms" if event.p95_ms is not None else ""
            return f"load stats: {event.rps:.1f} req/s, {event.failures_per_s:.1f} failures/s{p95}"
        case ev.ProbeFailed():
            return f"probe {event.probe} FAILED: {event.detail}"
        case ev.ProbeRecovered():
            return f"probe {event.probe} recovered"
        case ev.Alert():
            return f"alert {event.name} {event.status} (from {event.source})"
        case ev.Inject():
            who = f" {event.who}" if event.who else ""
            return f"inject {event.kind}{who}: {event.text}".rstrip(": ")
        case ev.Milestone():
            role = f" ({event.role})" if event.role else ""
            return f"milestone {event.name} by {event.actor}{role} [{event.source}]"
        case ev.Notification():
            return (
                f"notice {event.status} by {event.sender} via {event.channel} to {event.audience} "
                f"({event.recipients} recipients)"
            )
        case ev.Runbook():
            return (
                f"runbook {event.runbook} by {event.actor}: {event.result} {event.detail}".rstrip()
            )
        case ev.Readiness():
            state = "can open" if event.ok else "CANNOT open"
            return f"readiness: {event.actor} ({event.role}) {state} {event.tool}"
        case ev.ParticipantJoined():
            return f"{event.actor} joined as {event.role}"
        case ev.Note():
            return f"note: {event.text}"
        case ev.Amendment():
            return f"amendment: event #{event.target_seq} set to {format_clock(event.new_at)}"
    return event.type


def line(event: ev.Event) -> str:
    late = isinstance(event, ev.Milestone | ev.Note | ev.Amendment) and event.late
    suffix = " [late entry: recorded after the drill ended]" if late else ""
    return f"[{format_clock(event.at)}] #{event.seq:<4} {describe(event)}{suffix}"
