"""Shared pieces of the report's inline SVG drawings: colours, escaping, label packing.

The drawings are plain SVG text so the HTML report stays one self-contained file that opens
offline, prints, and needs no JavaScript. Every text goes through ``esc``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass
class Packer:
    """Places labels in as few sub-rows as possible without overlaps."""

    rows: list[float] = field(default_factory=list)

    def place(self, left: float, right: float) -> int:
        for index, edge in enumerate(self.rows):
            if left > edge + 4:
                self.rows[index] = right
                return index
        self.rows.append(right)
        return len(self.rows) - 1
