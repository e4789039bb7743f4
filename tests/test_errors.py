"""What a record write failure tells the user to wait for, by the errno the disk gave."""

from __future__ import annotations

import errno

import pytest

from kunren.errors import RecordWriteError


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG])
def test_a_full_disk_is_told_to_wait_for_room(code: int) -> None:
    assert RecordWriteError("x", code).when_writable == "When the disk has room again"


def test_an_io_error_is_told_to_check_the_disk_not_to_make_room() -> None:
    assert RecordWriteError("x", errno.EIO).when_writable == (
        "When the record's disk works again (an I/O error: check the disk, `dmesg`)"
    )


def test_another_refusal_is_named_and_an_unknown_one_is_plain() -> None:
    assert RecordWriteError("x", errno.EROFS).when_writable == (
        "When the record can be written again (Read-only file system)"
    )
    assert RecordWriteError("x").when_writable == "When the record can be written again"
    assert RecordWriteError("x").exit_code == 5
