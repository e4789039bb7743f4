"""The drill as swimlanes: faults, load, probes, alerts, injects, then one lane per role.

Every mark has a ``<title>`` so a reader hovering it sees the full event; objectives' deadlines
are drawn as flags, green when met, red when missed, amber when the drill stopped before them.
A mark is filled when it is the milestone's first or the one its objective counted.
"""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup

from kunren.reports.svg import COLORS, Packer, esc, text_width
from kunren.reports.texts import Texts
from kunren.scorers.card import Scorecard, Shown

WIDTH = 1000
LEFT = 150
RIGHT = 24
PLOT = WIDTH - LEFT - RIGHT
ROW = 16
DENSE = 3  # more marks than this in one pixel column of a lane are drawn as one


class _Timeline:
    def __init__(self, card: Scorecard, tx: Texts) -> None:
        self.card = card
        self.tx = tx
        latest = max((e.at for e in card.entries()), default=0.0)
        self.span = max(card.duration, card.ended_at, latest, 60.0)
        self.parts: list[str] = []
        self.top = 30.0  # room above the lanes for the time axis
        self.y = self.top + 4

    def x(self, at: float) -> float:
        return round(LEFT + max(0.0, min(at, self.span)) / self.span * PLOT, 1)

    def lane_label(self, text: str, height: float, shade: bool) -> None:
        if shade:
            self.parts.append(
                f'<rect x="0" y="{self.y}" width="{WIDTH}" height="{height}" fill="#f7f9fa"/>'
            )
        self.parts.append(
            f'<text x="8" y="{self.y + min(height, ROW) / 2 + 4}" class="lane">{esc(text)}</text>'
        )

    def bars(self, label: str, entries: list[Shown], color: str, shade: bool) -> None:
        self.lane_label(label, ROW + 4, shade)
        for entry in entries:
            x0 = self.x(entry.at)
            x1 = max(self.x(entry.until if entry.until is not None else entry.at), x0 + 2)
            self.parts.append(
                f'<rect x="{x0}" y="{self.y + 4}" width="{round(x1 - x0, 1)}" height="{ROW - 4}" '
                f'rx="2" fill="{color}" opacity="0.85">'
                f"<title>{esc(self._title(entry))}</title></rect>"
            )
        self.y += ROW + 4

    def marks(self, label: str, entries: list[Shown], shade: bool, labelled: bool = True) -> None:
        packer = Packer()
        placed: list[tuple[Shown, float, int, str, bool]] = []
        dense: list[tuple[list[Shown], float]] = []
        for group, x in self._columns(entries):
            if len(group) > DENSE:  # too many to tell apart: one mark that says how many
                dense.append((group, x))
                continue
            for entry in group:
                text = self._short(entry) if labelled else ""
                width = text_width(text)
                flip = x + 8 + width > WIDTH - RIGHT
                left, right = (x - 8 - width, x) if flip else (x, x + 8 + width)
                row = packer.place(left, right)
                if row is None:  # every sub-row is taken here: the mark without its text
                    text, row = "", packer.place(x, x) or 0
                placed.append((entry, x, row, text, flip))
        height = max(1, len(packer.rows)) * (ROW - 2) + 6
        self.lane_label(label, height, shade)
        for entry, x, row, text, flip in placed:
            cy = self.y + 9 + row * (ROW - 2)
            self.parts.append(self._glyph(entry, x, cy))
            if text:
                anchor, tx = ("end", x - 7) if flip else ("start", x + 7)
                self.parts.append(
                    f'<text x="{tx}" y="{cy + 3.5}" text-anchor="{anchor}" class="mark">'
                    f"{esc(text)}</text>"
                )
        for group, x in dense:
            self.parts.append(self._dense(group, x, self.y + 9))
        self.y += height

    def _columns(self, entries: list[Shown]) -> list[tuple[list[Shown], float]]:
        """Entries grouped by the pixel column they are drawn in, in order."""
        groups: list[tuple[list[Shown], float]] = []
        column = None
        for entry in entries:
            x = self.x(entry.at)
            if groups and int(x) == column:
                groups[-1][0].append(entry)
            else:
                column = int(x)
                groups.append(([entry], x))
        return groups

    def _dense(self, group: list[Shown], x: float, cy: float) -> str:
        first, last = min(e.at for e in group), max(e.at for e in group)
        title = self.tx(
            "marks_dense", n=len(group), first=self.tx.clock(first), last=self.tx.clock(last)
        )
        return (
            f'<rect x="{x - 1.5}" y="{cy - 6}" width="3" height="12" fill="{COLORS["ink"]}" '
            f'opacity="0.7"><title>{esc(title)}</title></rect>'
        )

    def _glyph(self, entry: Shown, x: float, cy: float) -> str:
        title = f"<title>{esc(self._title(entry))}</title>"
        if entry.kind == "milestone":
            fill = COLORS["people"] if self._counts(entry) else "#fff"
            return (
                f'<circle cx="{x}" cy="{cy}" r="4.5" fill="{fill}" stroke="{COLORS["people"]}" '
                f'stroke-width="1.5">{title}</circle>'
            )
        if entry.kind == "notification":
            sent = entry.status in ("sent", "partial")
            fill = COLORS["notice"] if sent else "#fff"
            return (
                f'<rect x="{x - 4}" y="{cy - 4}" width="8" height="8" fill="{fill}" '
                f'stroke="{COLORS["notice"]}" stroke-width="1.5">{title}</rect>'
            )
        if entry.kind == "alert":
            return (
                f'<path d="M{x} {cy - 5} L{x + 5} {cy + 4} L{x - 5} {cy + 4} Z" '
                f'fill="{COLORS["alert"]}">{title}</path>'
            )
        if entry.kind == "readiness":
            return (
                f'<path d="M{x - 4} {cy - 4} L{x + 4} {cy + 4} '
                f'M{x + 4} {cy - 4} L{x - 4} {cy + 4}" '
                f'stroke="{COLORS["missed"]}" stroke-width="2">{title}</path>'
            )
        color = COLORS["inject"] if entry.lane == "inject" else COLORS["people"]
        return (
            f'<path d="M{x} {cy - 5} L{x + 5} {cy} L{x} {cy + 5} L{x - 5} {cy} Z" '
            f'fill="{color}">{title}</path>'
        )

    def _short(self, entry: Shown) -> str:
        tx = self.tx
        if entry.kind == "milestone":
            return f"{tx.milestone(entry.subject)} · {entry.actor}"
        if entry.kind == "notification":
            return f"{tx.notice(entry.status)} · {entry.actor or ''}".rstrip(" ·")
        if entry.lane == "inject":
            return entry.subject
        if entry.kind == "alert":
            return entry.subject
        return f"{tx.entry(entry)} · {entry.actor}" if entry.actor else tx.entry(entry)

    def _counts(self, entry: Shown) -> bool:
        """Filled: the mark that is the milestone's first, or the one its objective counted."""
        m = self.card.milestones.get(entry.subject)
        if m is None:
            return False
        if m.at == entry.at and m.by == entry.actor:
            return True
        held = m.objective.timing if m.objective is not None else None
        return held is not None and held.at == entry.at and held.by == entry.actor

    def _title(self, entry: Shown) -> str:
        who = (
            f" — {entry.actor}" + (f" ({entry.role})" if entry.role else "") if entry.actor else ""
        )
        amended = (
            f" [{self.tx('recorded', t=self.tx.clock(entry.recorded_at))}]"
            if entry.recorded_at is not None
            else ""
        )
        label = self.tx.entry_label(entry)
        source = f" [{label}]" if label else ""
        return f"{self.tx.clock(entry.at)} {self.tx.entry(entry)}{who}{source}{amended}"

    def load(self) -> None:
        points = self.card.load
        height = 34.0
        self.lane_label(self.tx.lane("load"), height, True)
        top = max(p.users for p in points) or 1
        coords = []
        previous = None
        for point in points:
            x = self.x(point.at)
            y = round(self.y + height - 4 - point.users / top * (height - 10), 1)
            if y == previous:  # a long stretch at the same users is one segment, not thousands
                continue
            if previous is not None:
                coords.append(f"{x},{previous}")  # users change in steps
            coords.append(f"{x},{y}")
            previous = y
        coords.append(f"{self.x(self.card.ended_at)},{previous}")
        users = f"{top} {self.tx('users')}"
        self.parts.append(
            f'<polyline points="{" ".join(coords)}" fill="none" stroke="{COLORS["load"]}" '
            f'stroke-width="1.5"><title>{esc(users)}</title></polyline>'
        )
        self.parts.append(
            f'<text x="{LEFT - 6}" y="{self.y + 12}" text-anchor="end" class="mark">'
            f"{top} {esc(self.tx('users'))}</text>"
        )
        self.y += height

    def objectives(self) -> None:
        """Each objective's deadline as a flag; green when met, red when missed."""
        entries = []
        for m in self.card.milestones.values():
            if m.objective is None:
                continue
            at = self.card.t0.at + m.objective.within_seconds
            color = COLORS[m.objective.status]
            label = f"{self.tx.milestone(m.name)} ≤ {self.tx.timing(m.objective.within_seconds)}"
            entries.append((at, color, label))
        if not entries:
            return
        packer = Packer(limit=len(entries))  # few, and each must be shown with its label
        placed = []
        for at, color, label in sorted(entries):
            x = self.x(at)
            width = text_width(label)
            flip = x + 6 + width > WIDTH - RIGHT
            left, right = (x - 6 - width, x) if flip else (x, x + 6 + width)
            placed.append((x, color, label, packer.place(left, right) or 0, flip))
        height = len(packer.rows) * (ROW - 2) + 6
        self.lane_label(self.tx("objectives"), height, False)
        for x, color, label, row, flip in placed:
            cy = self.y + 9 + row * (ROW - 2)
            anchor, lx = ("end", x - 5) if flip else ("start", x + 5)
            self.parts.append(
                f'<line x1="{x}" y1="{self.top}" x2="{x}" y2="{cy}" stroke="{color}" '
                f'stroke-dasharray="3 3" opacity="0.6"/>'
                f'<text x="{lx}" y="{cy + 3.5}" text-anchor="{anchor}" class="mark" '
                f'fill="{color}">{esc(label)}</text>'
            )
        self.y += height

    def axis(self, bottom: float) -> None:
        minutes = self.span / 60
        step = next((s for s in (1, 2, 5, 10, 15, 30, 60, 120) if minutes / s <= 12), 240)
        grid = []
        tick = 0
        while tick * 60 <= self.span + 0.001 and tick < 10_000:
            x = self.x(tick * 60)
            grid.append(
                f'<line x1="{x}" y1="{self.top}" x2="{x}" y2="{bottom}" stroke="{COLORS["grid"]}"/>'
                f'<text x="{x}" y="{self.top - 6}" text-anchor="middle" class="tick">'
                f"{esc(self.tx.minutes(tick))}</text>"
            )
            tick += step
        self.parts[:0] = grid
        t0 = self.x(self.card.t0.at)
        end = self.x(self.card.ended_at)
        self.parts.append(
            f'<line x1="{t0}" y1="{self.top}" x2="{t0}" y2="{bottom}" stroke="{COLORS["ink"]}" '
            f'stroke-width="1.5"/><text x="{t0 + 3}" y="{bottom + 12}" class="tick">T0</text>'
            f'<line x1="{end}" y1="{self.top}" x2="{end}" y2="{bottom}" stroke="{COLORS["ink"]}" '
            f'stroke-dasharray="6 3"/><text x="{end - 3}" y="{bottom + 12}" text-anchor="end" '
            f'class="tick">{esc(self.tx("ended_" + self.card.ended))}</text>'
        )


def timeline_svg(card: Scorecard, tx: Texts) -> Markup:
    """The drill as swimlanes: faults, load, probes, alerts, injects, then one lane per role."""
    view = _Timeline(card, tx)
    timeline = card.entries()
    shade = True
    faults = [e for e in timeline if e.kind == "fault.injected" and e.lane == "fault"]
    for name in dict.fromkeys(e.subject for e in faults):
        view.bars(
            f"{tx.lane('fault')}: {name}",
            [e for e in faults if e.subject == name],
            COLORS["fault"],
            shade,
        )
        shade = not shade
    if card.load:
        view.load()
        shade = not shade
    failures = [e for e in timeline if e.kind == "probe.failed"]
    for name in dict.fromkeys(e.subject for e in failures):
        view.bars(
            f"{tx.lane('probe')}: {name}",
            [e for e in failures if e.subject == name],
            COLORS["probe"],
            shade,
        )
        shade = not shade
    for lane in ("alert", "inject"):
        entries = [e for e in timeline if e.lane == lane]
        if entries:
            view.marks(tx.lane(lane), entries, shade)
            shade = not shade
    for role, entries in _people_lanes(timeline, card):
        view.marks(role, entries, shade)
        shade = not shade
    view.objectives()
    bottom = view.y + 4
    view.axis(bottom)
    height = bottom + 20
    style = (
        "<style>.lane{font:600 11px sans-serif;fill:#1c2833}.mark{font:10px sans-serif;"
        "fill:#1c2833}.tick{font:10px sans-serif;fill:#566573}</style>"
    )
    body = "".join(view.parts)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'role="img" aria-label="{esc(tx("timeline"))}" class="swimlanes">{style}{body}</svg>'
    )


def _people_lanes(timeline: Iterable[Shown], card: Scorecard) -> list[tuple[str, list[Shown]]]:
    shown = {"milestone", "notification", "runbook", "readiness"}
    lanes: dict[str, list[Shown]] = {}
    for entry in timeline:
        if entry.lane == "people" and entry.kind in shown:
            lanes.setdefault(entry.role or "–", []).append(entry)
    order = list(card.scenario.roles)
    return sorted(
        lanes.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else 99, kv[0])
    )
