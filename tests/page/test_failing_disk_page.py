"""A mark the disk refuses is answered in words that fit the refusal, in the person's language.

Support staff read the answer on their phone and pass it on: a full disk and a failing one
are different calls for the facilitator, and neither is "try again". The drill's record is on
a FUSE filesystem (``bench/faultydisk.py``) whose kernel calls fail when armed: an fsync that
returns EIO, a short write followed by ENOSPC.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bench.faultydisk import FaultyDisk

from kunren.page.i18n import STRINGS
from kunren.record.eventlog import EVENTS_FILE
from kunren.record.events import Milestone
from tests.page.conftest import Browserless, LiveDrill, make_drill, stop_drill

pytestmark = pytest.mark.integration


@pytest.fixture
def drill_on_faulty_disk(faulty_disk: FaultyDisk) -> Iterator[LiveDrill]:
    live = make_drill(faulty_disk.mount)
    try:
        yield live
    finally:
        stop_drill(live)
        live.log.close()  # before the disk is unmounted


def _joined(drill: LiveDrill, name: str) -> Browserless:
    person = Browserless(drill, drill.ptoken)
    assert person.join(name, "sre").status_code == 200
    assert person.post("/milestone", {"milestone": "detected"}).json()["ok"]
    return person


def _refused(person: Browserless, language: str) -> str:
    reply = person.post("/milestone", {"milestone": "triaged"}, **{"Accept-Language": language})
    assert reply.status_code == 503, reply.text
    error: str = reply.json()["error"]
    return error


def _triaged(drill: LiveDrill) -> list[Milestone]:
    return [e for e in drill.of_type("milestone") if e.name == "triaged"]


def test_a_failing_disk_is_a_disk_error_not_a_full_one(
    drill_on_faulty_disk: LiveDrill, faulty_disk: FaultyDisk
) -> None:
    drill = drill_on_faulty_disk
    aiko = _joined(drill, "Aiko")
    try:
        faulty_disk.arm_fsync("EIO", file=EVENTS_FILE)
        error = _refused(aiko, "ja")
        assert faulty_disk.armed() == []  # the kernel's fsync failed
        assert error == STRINGS["err_not_recorded"]["ja"]
        assert "ディスクのエラー" in error and "いっぱい" not in error
        assert _triaged(drill) == []  # the refused mark is not in the record
    finally:
        aiko.close()
    assert "a disk error" in STRINGS["err_not_recorded"]["en"]


def test_a_full_disk_says_it_is_full(
    drill_on_faulty_disk: LiveDrill, faulty_disk: FaultyDisk
) -> None:
    drill = drill_on_faulty_disk
    ben = _joined(drill, "Ben")
    try:
        faulty_disk.arm_short_write(10, "ENOSPC")
        error = _refused(ben, "en")
        assert faulty_disk.armed() == []  # the short write was taken, then ENOSPC
        assert error == STRINGS["err_not_recorded_full"]["en"]
        assert "disk is full" in error
        assert _triaged(drill) == []  # neither the refused mark nor a torn half of it
    finally:
        ben.close()
