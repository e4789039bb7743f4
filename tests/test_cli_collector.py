"""``kunren.cli.collector.paused``: the collector off around a command's imports, on after."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from kunren.cli import collector


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_no_collection_runs_inside_the_block_and_it_is_on_again_after() -> None:
    seen: list[str] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append("collected")

    gc.callbacks.append(watch)
    try:
        with collector.paused():
            assert not gc.isenabled()
            made = [[_Cycle()] for _ in range(20_000)]  # far past the 700-allocation trigger
        assert made and seen == []
        assert gc.isenabled()
    finally:
        gc.callbacks.remove(watch)


def test_what_the_block_made_is_frozen_out_of_later_collections() -> None:
    before = gc.get_freeze_count()
    with collector.paused():
        kept = [_Cycle() for _ in range(1_000)]
    assert gc.get_freeze_count() >= before + len(kept)


def test_a_nested_block_leaves_the_collector_to_the_outer_one() -> None:
    with collector.paused():
        with collector.paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_in_the_block_still_turns_the_collector_back_on() -> None:
    with pytest.raises(ImportError), collector.paused():
        raise ImportError("no such module")
    assert gc.isenabled()


def test_a_caller_that_keeps_the_collector_off_keeps_it_off() -> None:
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()
