"""Shared pieces of the report's inline SVG drawings: colours, escaping, label packing.

The drawings are plain SVG text so the HTML report stays one self-contained file that opens
offline, prints, and needs no JavaScript. Every text goes through ``esc``.
"""

from __future__ import annotations

from markupsafe import escape

FONT = 10

COLORS = {
    "fault": "#c0392b",
    "probe": "#e67e22",
    "alert": "#8e44ad",
    "inject": "#7f8c8d",
    "load": "#5d7b9d",
    "met": "#1e8449",
    "missed": "#c0392b",
    "open": "#b9770e",
    "people": "#2471a3",
    "notice": "#117a65",
    "grid": "#e5e8ec",
    "ink": "#1c2833",
}
PALETTE = ("#2471a3", "#c0392b", "#1e8449", "#8e44ad", "#d68910", "#17a589", "#6c3483", "#566573")


def text_width(text: str, size: float = FONT) -> float:
    """A close-enough width so labels can be packed without a layout engine."""
    return sum(size * (1.0 if ord(c) > 0x2E80 else 0.58) for c in text)


def esc(text: object) -> str:
    return str(escape(str(text)))


class Packer:
    """Places labels in the first sub-row where they fit, in O(log rows) each.

    A lane of a big drill can hold a hundred thousand labels; trying every sub-row for every
    label made drawing quadratic. The sub-rows' right edges live in a segment tree of minima,
    so the first sub-row whose edge is left of a label is found by descending it. Sub-rows are
    capped at ``limit``: a label that fits in none of them is not placed (``None``) and the
    caller draws its mark without the text.
    """

    GAP = 4.0

    def __init__(self, limit: int = 12) -> None:
        self.limit = limit
        self.rows: list[float] = []  # right edge of each sub-row in use, in order
        self._size = 1
        while self._size < limit:
            self._size *= 2
        self._tree = [float("-inf")] * (2 * self._size)  # unused sub-rows take anything

    def place(self, left: float, right: float) -> int | None:
        if self._tree[1] >= left - self.GAP:  # every sub-row, used or free, is too far right
            return None
        node = 1
        while node < self._size:  # the leftmost leaf whose edge leaves room
            node = 2 * node if self._tree[2 * node] < left - self.GAP else 2 * node + 1
        index = node - self._size
        if index >= self.limit:
            return None
        if index == len(self.rows):
            self.rows.append(right)
        else:
            self.rows[index] = right
        self._set(index, right)
        return index

    def _set(self, index: int, edge: float) -> None:
        node = index + self._size
        self._tree[node] = edge
        node //= 2
        while node:
            self._tree[node] = min(self._tree[2 * node], self._tree[2 * node + 1])
            node //= 2
