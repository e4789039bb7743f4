"""``kunren import``: a hand-run drill from a CSV timeline becomes a record like a live one."""

from __future__ import annotations

import subprocess
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from kunren.cli import main
from kunren.errors import InputError
from kunren.record.eventlog import EventLog
from kunren.record.events import (
    Alert,
    DrillEnded,
    DrillStarted,
    FaultInjected,
    Milestone,
    Note,
    Notification,
    ProbeFailed,
)
from kunren.record.importer import import_timeline
from tests.conftest import KUNREN
from tests.fixtures.timelines.records import DRILLS, SCENARIO, build_records

START = datetime.fromisoformat("2024-07-17T18:00:00+09:00")


def csv(tmp_path: Path, body: str, name: str = "timeline.csv") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


def problems(tmp_path: Path, body: str) -> list[str]:
    path = csv(tmp_path, body)
    with pytest.raises(InputError) as caught:
        import_timeline(SCENARIO, path, tmp_path / "drills", START)
    assert not (tmp_path / "drills").exists(), "nothing may be written on a bad row"
    return [line.replace(str(path), "T") for line in caught.value.lines]


def test_a_timeline_becomes_a_drill_record(tmp_path: Path) -> None:
    path = csv(
        tmp_path,
        """
        at,event,name,actor,role,note
        # rows may be out of order and have comments
        12:30,milestone,detected,bob,support,a customer called
        0:00,fault.injected,shop-down,,,

        40:05,notification,email,alice,support,audience=all-customers recipients=1200
        0:10,probe.failed,shop-health,,,connection refused
        0:40,alert,ShopDown,,,
        20:00,note,,frank,commander,action: templates
        """,
    )
    folder = import_timeline(SCENARIO, path, tmp_path / "drills", START)
    assert folder == tmp_path / "drills" / "web-outage-20240717-090000"
    assert (folder / "scenario.yaml").read_text("utf-8") == SCENARIO.read_text("utf-8")
    events = EventLog(folder).read()
    assert [type(e) for e in events] == [
        DrillStarted,
        FaultInjected,
        ProbeFailed,
        Alert,
        Milestone,
        Note,
        Notification,
        DrillEnded,
    ]
    started, fault, _, _, mark, _, notice, ended = events
    assert isinstance(started, DrillStarted)
    assert (started.drill, started.scenario_id, started.source) == (
        folder.name,
        "web-outage",
        "import",
    )
    assert isinstance(fault, FaultInjected) and fault.kind == "process.kill"
    assert isinstance(mark, Milestone)
    assert (mark.at, mark.wall, mark.source, mark.note) == (
        750.0,
        "2024-07-17T18:12:30+09:00",
        "import",
        "a customer called",
    )
    assert isinstance(notice, Notification)
    assert (notice.status, notice.channel, notice.sender, notice.audience, notice.recipients) == (
        "sent",
        "email",
        "alice",
        "all-customers",
        1200,
    )
    assert isinstance(ended, DrillEnded) and ended.at == 3600.0  # no drill.ended row: duration


def test_a_notification_row_takes_free_text_as_its_note_with_optional_fields(
    tmp_path: Path,
) -> None:
    path = csv(
        tmp_path,
        """
        at,event,name,actor,role,note
        0:00,fault.injected,shop-down,,,
        45:10,notification,email,alice,support,first notice to all customers
        50:00,notification,email,bob,support,update: shop back audience=all-customers recipients=900
        52:00,notification,phone,carol,support,
        """,
    )
    folder = import_timeline(SCENARIO, path, tmp_path / "drills", START)
    notices = [e for e in EventLog(folder).read() if isinstance(e, Notification)]
    assert [(n.sender, n.note, n.audience, n.recipients, n.at) for n in notices] == [
        ("alice", "first notice to all customers", "", 0, 2710.0),
        ("bob", "update: shop back", "all-customers", 900, 3000.0),
        ("carol", "", "", 0, 3120.0),
    ]
    assert all(n.status == "sent" for n in notices)


def test_a_misspelt_notice_field_is_refused_not_taken_as_text(tmp_path: Path) -> None:
    lines = problems(
        tmp_path,
        """
        at,event,name,actor,role,note
        5:00,notification,email,alice,support,first notice audiance=all-customers
        """,
    )
    assert lines == [
        "T:2: note: unknown field 'audiance' (did you mean 'audience'?) in "
        "'audiance=all-customers'; the fields are audience, recipients, template (key=value), "
        "any other text is the note"
    ]


def test_the_golden_records_are_exactly_what_import_makes(tmp_path: Path) -> None:
    # Compared as events, not bytes: fields added to events later keep old records readable.
    for built in build_records(tmp_path):
        committed = DRILLS / built.name
        assert EventLog(built).read() == EventLog(committed).read()
        assert (built / "scenario.yaml").read_bytes() == (committed / "scenario.yaml").read_bytes()


def test_every_bad_row_is_reported_at_once_with_file_line_and_column(tmp_path: Path) -> None:
    lines = problems(
        tmp_path,
        """
        at,event,name,actor,role,note
        0:00,fault.injected,shop-dwn,,,
        ten past,milestone,detected,bob,support,
        1:00,milestone,detectd,bob,support,
        2:00,milestone,triaged,,support,
        3:00,milestone,triaged,bob,suport,
        4:00,mark,detected,bob,support,
        5:00,note,,frank,,
        6:00,notification,email,alice,support,audience=all recipients=many
        7:00,notification,email,alice,support,to=all
        8:00,alert,,,,
        9:00,note,,frank,,one,too many
        """,
    )
    assert lines == [
        "T:2: name: no fault 'shop-dwn' in the scenario (did you mean 'shop-down'?) "
        "(known: shop-down, search-500)",
        "T:3: at: expected an offset like 12:30 or 1:02:03, got 'ten past'",
        "T:4: name: unknown milestone 'detectd' (did you mean 'detected'?) (known: detected, "
        "acknowledged, escalated, triaged, customer_notified, mitigated, resolved, "
        "status_page_updated)",
        "T:5: actor: a milestone row needs the person in actor",
        "T:6: role: no role 'suport' in the scenario (did you mean 'support'?) "
        "(known: sre, support, commander)",
        "T:7: event: unknown event 'mark'; one of: fault.injected, fault.reverted, probe.failed, "
        "probe.recovered, alert, milestone, notification, note, drill.ended",
        "T:8: note: a note row needs its text in note",
        "T:9: note: recipients must be a whole number, got 'many'",
        "T:10: note: unknown field 'to' in 'to=all'; the fields are audience, recipients, "
        "template (key=value), any other text is the note",
        "T:11: name: a alert row needs the alert name in name",
        "T:12: 7 fields, the header has 6",
    ]


def test_rows_must_be_inside_the_drill(tmp_path: Path) -> None:
    assert problems(
        tmp_path,
        """
        at,event,name,actor,role,note
        0:00,fault.injected,shop-down,,,
        1:01:00,milestone,resolved,dave,sre,
        """,
    ) == [
        "T:3: at: 1:01:00 is after the scenario's duration 1:00:00; add a drill.ended row if "
        "the drill ran longer"
    ]
    assert problems(
        tmp_path,
        """
        at,event,name,actor,role,note
        40:00,drill.ended,,,,
        45:00,drill.ended,,,,
        41:00,milestone,resolved,dave,sre,
        """,
    ) == [
        "T:3: at: 45:00 is after drill.ended at 40:00 (line 2)",
        "T:3: event: a second drill.ended (the first is on line 2)",
        "T:4: at: 41:00 is after drill.ended at 40:00 (line 2)",
    ]


def test_a_drill_that_ran_longer_than_planned_ends_at_its_drill_ended_row(tmp_path: Path) -> None:
    path = csv(
        tmp_path,
        """
        at,event,name,actor,role,note
        1:05:00,milestone,resolved,dave,sre,
        1:10:00,drill.ended,,,,over time
        """,
    )
    events = EventLog(import_timeline(SCENARIO, path, tmp_path / "drills", START)).read()
    assert isinstance(events[-1], DrillEnded)
    assert (events[-1].at, events[-1].reason) == (4200.0, "over time")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", ["T:1: the file is empty; header: at,event,name,actor,role,note"]),
        ("at,event,name,actor,role,note\n", ["T:2: no rows: the timeline has only its header"]),
        (
            "at,what,name\n0:00,drill.ended,\n",
            [
                "T:1: event: missing column",
                "T:1: what: unknown column; the header is at,event,name,actor,role,note",
            ],
        ),
    ],
)
def test_a_file_without_a_usable_header(tmp_path: Path, body: str, expected: list[str]) -> None:
    assert problems(tmp_path, body) == expected


def test_a_spreadsheet_bom_and_missing_optional_columns_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffat,event,name\r\n0:00,fault.injected,shop-down\r\n".encode())
    events = EventLog(import_timeline(SCENARIO, path, tmp_path / "drills", START)).read()
    assert [e.type for e in events] == ["drill.started", "fault.injected", "drill.ended"]


def test_two_imports_of_the_same_start_get_two_folders(tmp_path: Path) -> None:
    path = csv(tmp_path, "at,event,name\n0:00,fault.injected,shop-down\n")
    first = import_timeline(SCENARIO, path, tmp_path / "drills", START)
    second = import_timeline(SCENARIO, path, tmp_path / "drills", START)
    assert (first.name, second.name) == (
        "web-outage-20240717-090000",
        "web-outage-20240717-090000-2",
    )


def test_a_naive_start_is_local_time(tmp_path: Path) -> None:
    path = csv(tmp_path, "at,event,name\n0:00,fault.injected,shop-down\n")
    folder = import_timeline(SCENARIO, path, tmp_path / "drills", datetime(2024, 7, 17, 18, 0))
    started = EventLog(folder).read()[0]
    assert datetime.fromisoformat(started.wall) == datetime(2024, 7, 17, 18, 0).astimezone()


def test_cli_prints_the_new_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = csv(tmp_path, "at,event,name\n0:00,fault.injected,shop-down\n")
    drills = tmp_path / "drills"
    argv = [
        "import",
        "--scenario",
        str(SCENARIO),
        str(path),
        "--drills",
        str(drills),
        "--start",
        "2024-07-17T18:00:00+09:00",
    ]
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0
    assert capsys.readouterr().out == f"{drills / 'web-outage-20240717-090000'}\n"


def test_cli_bad_rows_exit_2_with_one_line_each_and_write_nothing(tmp_path: Path) -> None:
    path = csv(tmp_path, "at,event,name,actor\n0:00,milestone,detected,\n9:99,alert,Down,\n")
    drills = tmp_path / "drills"
    done = subprocess.run(
        [*KUNREN, "import", "--scenario", str(SCENARIO), str(path), "--drills", str(drills)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"{path}:2: actor: a milestone row needs the person in actor",
        f"{path}:3: at: expected an offset like 12:30 or 1:02:03, got '9:99'",
    ]
    assert not drills.exists()


def test_cli_bad_start_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = csv(tmp_path, "at,event,name\n0:00,fault.injected,shop-down\n")
    with pytest.raises(SystemExit) as done:
        main(["import", "--scenario", str(SCENARIO), str(path), "--start", "yesterday"])
    assert done.value.code == 2
    assert capsys.readouterr().err == (
        "Error: --start: expected an ISO 8601 time like 2024-07-17T18:00+09:00, got 'yesterday'\n"
    )
