"""One line of plain text per recorded event, for the live console and `kunren log`.

The line is rendered from the event's timeline entry (``kunren.record.timeline``), the one
structured model every surface shows, never from the event itself: what the console prints
is what the report and the page are built from. The console's words are its own (terse,
English, made to scan while a drill runs), and the ``match`` over entry kinds ends in
``assert_never``, so a new event type is a type error here until it has a line.

Pure formatting (no printing): the CLI decides where the lines go.
"""

from __future__ import annotations

from typing import assert_never

from kunren.durations import format_clock
from kunren.record import events as ev
from kunren.record.timeline import Entry, entry

LATE = " [late entry: recorded after the drill ended]"


def line(event: ev.Event) -> str:
    """``[MM:SS] #seq  what happened`` for one recorded event."""
    return entry_line(entry(event))


def entry_line(e: Entry) -> str:
    """The console line of one timeline entry."""
    return f"[{format_clock(e.at)}] #{e.seq:<4} {describe(e)}{LATE if e.late else ''}"


def describe(e: Entry) -> str:
    """What the entry says on the console, without its time and seq."""
    actor, on = e.actor or "", ", ".join(e.targets) or "-"
    match e.kind:
        case "drill.started":
            # virtual time has no speed: "virtual clock", never "speed 0"
            speed = "" if e.status == "virtual" else f", speed {_number(e.speed)}"
            return f"drill {e.subject} started ({e.detail}; {e.status} clock{speed})"
        case "drill.ended":
            return f"drill ended: {e.detail}"
        case "drill.aborted":
            return f"drill ABORTED: {e.detail}"
        case "drill.resumed":
            return f"drill resumed: {e.detail}"
        case "fault.injecting":
            return f"injecting {e.subject} ({e.status}) on {on}"
        case "fault.injected":
            return f"injected {e.subject} on {on}"
        case "fault.failed":
            return f"fault {e.subject} FAILED: {e.detail}"
        case "fault.reverting":
            return f"reverting {e.subject}"
        case "fault.reverted":
            return f"reverted {e.subject}{_said(e.detail)}"
        case "fault.revert_failed":
            return f"REVERT FAILED for {e.subject}: {e.detail}"
        case "service.started":
            return f"service {e.subject} started (pid {_count(e.count)})"
        case "service.stopped":
            return f"service {e.subject} stopped" + (f" ({e.detail})" if e.detail else "")
        case "service.exited":
            return f"service {e.subject} EXITED ({_exit(e.count)})"
        case "load.stage":
            planned = " (planned; no load on the virtual clock)" if e.status == "planned" else ""
            return f"load: {_count(e.count)} users, spawn {_number(e.spawn_rate)}/s{planned}"
        case "load.stats":
            return _load_stats(e)
        case "load.lost":
            then = "load STOPPED, the drill goes on" if e.status else "the rest go on"
            return f"load: Locust {e.subject} LOST ({then}): {e.detail}"
        case "probe.failed":
            return f"probe {e.subject} FAILED: {e.detail}"
        case "probe.recovered":
            return f"probe {e.subject} recovered"
        case "alert":
            return f"alert {e.subject} {e.status} (from {e.via})"
        case "inject":
            who = f" {actor}" if actor else ""
            return f"inject {e.subject}{who}: {e.detail}".rstrip(": ")
        case "milestone":
            role = f" ({e.role})" if e.role else ""
            return f"milestone {e.subject} by {actor}{role} [{e.provenance}]"
        case "notification":
            return (
                f"notice {e.recorded_status} by {e.sender} via {e.via} to {e.to} "
                f"({_count(e.count)} recipients)"
            )
        case "runbook":
            return f"runbook {e.subject} by {actor}: {e.status} {e.detail}".rstrip()
        case "readiness":
            state = "can open" if e.status == "ok" else "CANNOT open"
            return f"readiness: {actor} ({e.role}) {state} {e.subject}"
        case "participant.joined":
            return f"{actor} joined as {e.role}"
        case "note":
            return f"note: {e.detail}"
        case "amendment":
            return f"amendment: event #{e.refers_to} set to {format_clock(e.count or 0.0)}"
        case _:
            assert_never(e.kind)


def _said(text: str) -> str:
    return f": {text}" if text else ""


def _count(value: float | None) -> str:
    """A whole number as recorded (a pid, users, recipients); nothing recorded is 0."""
    return str(int(value or 0))


def _number(value: float | None) -> str:
    """A rate or speed as recorded: ``2``, ``2.5``; nothing recorded is 0."""
    return f"{value or 0:g}"


def _exit(code: float | None) -> str:
    """A service's exit: ``code 3``, or ``killed by signal 9`` for a negative code."""
    value = int(code or 0)
    return f"killed by signal {-value}" if value < 0 else f"code {value}"


def _load_stats(e: Entry) -> str:
    p95 = f", p95 {e.p95_ms:.0f} ms" if e.p95_ms is not None else ""
    return f"load stats: {e.count or 0:.1f} req/s, {e.failures_per_s or 0:.1f} failures/s{p95}"
