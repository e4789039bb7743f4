"""``kunren notify`` end to end: a drill folder, the shipped templates, a real SMTP server."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kunren.cli import main
from kunren.record.eventlog import EventLog
from kunren.record.events import DrillStarted, Notification
from kunren.record.folders import create_drill
from kunren.record.recorder import Recorder
from kunren.runtime.clock import VirtualClock
from kunren.scenarios.loader import load_scenario
from tests.conftest import KUNREN
from tests.notify.conftest import REPO, START

pytestmark = pytest.mark.integration

SCENARIO = """\
version: 1
id: cli-notify
title: CLI notify
duration: 60m
timezone: Asia/Tokyo
roles: {{support: {{}}, commander: {{}}}}
notifications:
  templates:
    investigating: {{ja: templates/investigating.ja.md.j2, en: templates/investigating.en.md.j2}}
    resolved: templates/resolved.en.md.j2
    custom: templates/custom.en.md.j2
  audiences:
    drill-customers: {{file: audiences/drill-customers.csv}}
  channels: [capture, {{email: {{host: 127.0.0.1, port: {port}, from: drill@example.com}}}}]
  drill_allowlist: ["@example.com"]
  variables: {{service: Shop, affected_features: booking}}
{extra}"""


def make_cli_drill(tmp_path: Path, port: int, extra: str = "") -> Path:
    workspace = tmp_path / "scenarios"
    shutil.copytree(REPO / "scenarios" / "templates", workspace / "templates")
    shutil.copytree(REPO / "scenarios" / "audiences", workspace / "audiences")
    custom = "Subject: {{ service }} notice\n\n{{ cause }} and {{ detail }}\n"
    (workspace / "templates" / "custom.en.md.j2").write_text(custom, encoding="utf-8")
    path = workspace / "cli.yaml"
    path.write_text(SCENARIO.format(port=port, extra=extra), encoding="utf-8")
    log = create_drill(load_scenario(path), tmp_path / "drills", START)
    Recorder(log, VirtualClock(wall_start=START)).record(
        DrillStarted(
            drill=log.drill_dir.name, scenario_id="cli-notify", duration=3600, clock="virtual"
        )
    )
    return log.drill_dir


def run(args: list[str], input: str | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    with runner.isolation(input=input) as (out, err, _):
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue().decode(), err.getvalue().decode()


def notify(
    drill: Path,
    template: str,
    *options: str,
    actor: str = "alice",
    role: str = "support",
    input: str | None = None,
) -> tuple[int, str, str]:
    """``kunren notify TEMPLATE --drill DRILL --as ACTOR --role ROLE OPTIONS…``."""
    args = ["notify", template, "--drill", str(drill), "--as", actor, "--role", role, *options]
    return run(args, input=input)


def notices(drill: Path) -> list[Notification]:
    return [e for e in EventLog(drill).read() if isinstance(e, Notification)]


def test_notify_shows_the_preview_sends_and_records(tmp_path: Path, smtp_server: Any) -> None:
    handler, port = smtp_server()
    drill = make_cli_drill(tmp_path, port)

    options = ["--lang", "en", "--var", "next_update_time=15:30", "--at", "12:30", "--yes"]
    code, out, err = notify(drill, "investigating", *options)

    assert (code, err) == (0, "")
    (sent,) = {e.notice for e in notices(drill)}
    lines = out.splitlines()
    assert lines[:6] == [
        "Notice: investigating (en) to drill-customers",
        "Recipients: 16 (7 really delivered, 9 captured: not on the drill allowlist)",
        "Channels: capture, email",
        "Subject: [DRILL] Shop: investigating a problem with booking",
        "",
        "[DRILL] This is a drill. No real service is affected.",
    ]
    assert (
        "Since about 2024-05-01 14:00 JST, some of you may be unable to use booking on Shop."
        in lines
    )
    assert "We will post the next update by 15:30, or sooner if the situation changes." in lines
    assert lines[-3:] == [
        f"Sent notice {sent} at 12:30.",
        "  capture: 16 captured",
        "  email: 7 delivered, 9 captured",
    ]
    assert len(handler.messages) == 7
    assert [(e.channel, e.status, e.at, e.sender, e.role) for e in notices(drill)] == [
        ("capture", "sent", 750.0, "alice", "support"),
        ("email", "sent", 750.0, "alice", "support"),
    ]
    assert notices(drill)[0].wall.startswith("2024-05-01T14:12:30")


def test_draft_approve_send_from_three_terminals(tmp_path: Path, smtp_server: Any) -> None:
    handler, port = smtp_server()
    drill = make_cli_drill(tmp_path, port, extra="  approval: {by: commander}\n")
    base = ["notify", "--drill", str(drill)]

    code, out, err = run(
        [*base, "investigating", "--as", "alice", "--role", "support", "--draft", "--at", "5m"]
    )
    assert (code, err) == (0, "")
    notice = notices(drill)[0].notice
    assert out.splitlines()[-3:] == [
        f"Drafted notice {notice} at 05:00.",
        "It waits for approval by commander:",
        f"  kunren notify --drill {drill} --approve {notice} --as NAME --role commander",
    ]
    assert "Warning: no next-update time: say when the next update comes" in out
    assert "Approval: by commander" in out.splitlines()

    code, out, err = run(
        [*base, "--send", notice, "--as", "alice", "--role", "support", "--at", "6m", "--yes"]
    )
    assert (code, err) == (2, f"Error: notice {notice} waits for approval by commander\n")

    code, out, err = run(
        [*base, "--approve", notice, "--as", "carol", "--role", "commander", "--at", "7m"]
    )
    assert (code, err) == (0, "")
    assert out.splitlines()[-2:] == [
        f"Approved notice {notice} (drafted by alice, waited 2m).",
        f"Send it: kunren notify --drill {drill} --send {notice} --as alice --role support",
    ]

    code, out, err = run(
        [*base, "--send", notice, "--as", "alice", "--role", "support", "--at", "7m30s", "--yes"]
    )
    assert (code, err) == (0, "")
    assert out.splitlines()[-3] == f"Sent notice {notice} at 07:30."
    assert [(e.status, e.at) for e in notices(drill)] == [
        ("drafted", 300.0),
        ("approved", 420.0),
        ("sent", 450.0),
        ("sent", 450.0),
    ]
    assert len(handler.messages) == 7


def test_sending_without_the_required_approval_is_refused(tmp_path: Path) -> None:
    drill = make_cli_drill(tmp_path, 25, extra="  approval: {by: commander}\n")
    code, out, err = notify(drill, "investigating", "--at", "1m", "--yes")
    assert (code, out) == (2, "")
    assert err == (
        "Error: notices in this drill need approval by commander: draft it first with --draft\n"
    )


def test_a_missing_variable_names_the_template_and_sends_nothing(tmp_path: Path) -> None:
    drill = make_cli_drill(tmp_path, 25)
    template = (tmp_path / "scenarios" / "templates" / "custom.en.md.j2").resolve()
    code, out, err = notify(drill, "custom", "--at", "1m", "--yes", actor="a")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"{template}: undefined variable: cause (give --var cause=…)",
        f"{template}: undefined variable: detail (give --var detail=…)",
    ]
    assert notices(drill) == []


def test_declining_the_confirmation_records_nothing(tmp_path: Path, smtp_server: Any) -> None:
    handler, port = smtp_server()
    drill = make_cli_drill(tmp_path, port)
    code, out, err = notify(drill, "investigating", "--at", "1m", input="n\n")
    assert code == 1
    assert out.splitlines()[-1] == "Send this notice (16 recipients)? [y/N]: n"
    assert err == "Error: not sent; nothing was recorded\n"
    assert notices(drill) == [] and handler.messages == []


def test_live_notifications_ask_and_reach_everyone(tmp_path: Path, smtp_server: Any) -> None:
    handler, port = smtp_server()
    drill = make_cli_drill(tmp_path, port)
    options = ["--channel", "email", "--live-notifications", "--at", "1m"]
    code, out, err = notify(drill, "investigating", *options, input="y\n")
    assert (code, err) == (0, "")
    assert "Recipients: 16 (LIVE: all 16 really delivered)" in out.splitlines()
    assert "LIVE: send to 16 real recipients? [y/N]: y" in out.splitlines()
    assert out.splitlines()[-1] == "  email: 16 delivered"
    assert len(handler.messages) == 16
    assert [e.live for e in notices(drill)] == [True]


def test_a_refused_recipient_is_listed_and_the_exit_code_says_so(
    tmp_path: Path, smtp_server: Any
) -> None:
    handler, port = smtp_server(refuse={"bob.jones@example.com"})
    drill = make_cli_drill(tmp_path, port)
    code, out, err = notify(drill, "investigating", "--channel", "email", "--at", "1m", "--yes")
    assert code == 1
    assert out.splitlines()[-2:] == [
        "  email: 6 delivered, 9 captured, 1 failed",
        "    bob.jones@example.com: 550 5.1.1 mailbox unavailable",
    ]
    (notice,) = {e.notice for e in notices(drill)}
    assert err == (
        "Error: 1 recipient(s) failed; the others were sent; send again to them only: "
        f"kunren notify --drill {drill} --as alice --role support --send {notice}\n"
    )
    assert len(handler.messages) == 6

    handler.refuse.clear()  # the mailbox works again: --send reaches only the one it missed
    again = [
        "notify",
        "--drill",
        str(drill),
        "--send",
        notice,
        "--as",
        "alice",
        "--role",
        "support",
    ]
    code, out, err = run([*again, "--at", "2m"], input="y\n")
    assert (code, err) == (0, "")
    assert out.splitlines()[:2] == [
        f"Notice {notice} did not reach 1 recipient(s); sending again to them only:",
        "  email: bob.jones@example.com",
    ]
    assert "  email: 1 delivered" in out.splitlines()
    assert [m.rcpt_tos for m in handler.messages[6:]] == [["bob.jones@example.com"]]
    code, out, err = run([*again, "--yes", "--at", "3m"])
    assert (code, err) == (2, f"Error: notice {notice} was sent already, and reached everyone\n")


def test_list_shows_templates_audiences_and_notices(tmp_path: Path) -> None:
    drill = make_cli_drill(tmp_path, 25)
    code, out, err = run(["notify", "--drill", str(drill), "--list"])
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "Templates:"
    assert lines[1].startswith("  investigating: en, ja (variables: affected_features, ")
    assert lines[3:] == [
        "  custom: en (variables: cause, detail, service)",
        "Audiences:",
        f"  drill-customers: 16 recipients, 7 on the drill allowlist "
        f"({tmp_path}/scenarios/audiences/drill-customers.csv)",
        "Channels: capture, email",
        "Notices: none yet",
    ]


def test_a_virtual_clock_drill_needs_at(tmp_path: Path) -> None:
    drill = make_cli_drill(tmp_path, 25)
    done = subprocess.run(
        [
            *KUNREN,
            "notify",
            "investigating",
            "--drill",
            str(drill),
            "--as",
            "alice",
            "--role",
            "support",
            "--yes",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert (
        done.stderr
        == "Error: this drill runs on the virtual clock: give the drill time with --at\n"
    )
    assert done.stdout == ""


def test_usage_errors(tmp_path: Path) -> None:
    drill = make_cli_drill(tmp_path, 25)
    base = ["notify", "--drill", str(drill), "--at", "1m"]
    assert run([*base, "investigating", "--as", "a"])[::2] == (
        2,
        "Error: give who is acting and their role: --as NAME --role ROLE\n",
    )
    assert run([*base, "investigating", "--as", "a", "--role", "chef"])[::2] == (
        2,
        "Error: unknown role 'chef'; this drill has: support, commander\n",
    )
    assert run([*base, "--draft", "--approve", "n-1", "--as", "a", "--role", "support"])[::2] == (
        2,
        "Error: give only one of --draft, --approve\n",
    )
    assert run([*base, "--as", "a", "--role", "support"])[::2] == (
        2,
        "Error: give a TEMPLATE (kunren notify --drill DRILL --list shows them)\n",
    )
    assert run([*base, "nope", "--as", "a", "--role", "support"])[::2] == (
        2,
        "Error: unknown template 'nope' (templates: investigating, resolved, custom)\n",
    )
