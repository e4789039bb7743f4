"""The timeline stays linear in the record: first-fit label packing, capped, and dense lanes
drawn as one mark per crowded pixel column."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from bench.synth import write_series

from kunren.reports import build_scorecard
from kunren.reports.svg import Packer
from kunren.reports.swimlanes import DENSE, PLOT, timeline_svg
from kunren.reports.texts import Texts


def _first_fit(rows: list[float], left: float, right: float, limit: int) -> int | None:
    """The packing as it was: try every sub-row in order."""
    for index, edge in enumerate(rows):
        if left > edge + Packer.GAP:
            rows[index] = right
            return index
    if len(rows) >= limit:
        return None
    rows.append(right)
    return len(rows) - 1


def test_the_tree_places_every_label_where_trying_every_sub_row_would() -> None:
    rng = random.Random(7)
    for limit in (1, 3, 12, 40):
        packer, rows = Packer(limit), list[float]()
        for _ in range(3000):
            left = rng.uniform(0, 1000)
            right = left + rng.uniform(0, 120)
            assert packer.place(left, right) == _first_fit(rows, left, right, limit)
        assert packer.rows == rows


def test_a_label_that_fits_in_no_sub_row_is_not_placed() -> None:
    packer = Packer(limit=2)
    assert [packer.place(0, 50), packer.place(10, 60), packer.place(20, 70)] == [0, 1, None]
    assert packer.place(60, 80) == 0  # room again once the first sub-row is passed


@pytest.mark.integration
def test_a_dense_drill_draws_a_bounded_timeline_that_still_counts_every_mark(
    tmp_path: Path,
) -> None:
    (drill,) = write_series(tmp_path / "drills", 1, 20_000)
    card = build_scorecard([drill], drills_root=tmp_path / "drills")
    for lang in ("en", "ja"):
        svg = str(timeline_svg(card, Texts(lang, card)))
        root = ET.fromstring(svg)  # well-formed: a browser can open it
        titles = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}title")]
        word = "marks, " if lang == "en" else " 件（"
        dense = [t for t in titles if word in t]
        assert dense, "20,000 events in an hour leave no crowded pixel column?"
        lanes = {e.lane for e in card.timeline}
        # at most DENSE single marks, or one aggregate, per pixel column of each lane
        assert len(titles) <= (len(lanes) + 40) * (PLOT + 1) * DENSE
        if lang == "en":  # each aggregate says how many marks it stands for
            counted = sum(int(t.split(" ", 1)[0]) for t in dense)
            assert DENSE * len(dense) < counted <= len(card.timeline)
