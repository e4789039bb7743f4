"""The series as a chart: minutes per drill for each headline milestone.

Censored points (not reached: "60+ min") are drawn hollow at their bound, so a reader never
mistakes them for measured times. Every point carries its value, drill and provenance in its
title; the value is also written beside it while drills are far enough apart to read it
(LABEL_SPACING). In a longer series only the latest drill's values are written: a hundred
drills' labels would cover each other, and be most of the report's size.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup

from kunren.reports.svg import COLORS, PALETTE, esc, text_width
from kunren.reports.texts import Texts
from kunren.scorers.card import Trend, TrendLine

LABEL_SPACING = 32.0  # px between drills below which only the latest drill's values are written


@dataclass(frozen=True)
class _Point:
    x: float
    y: float
    color: str
    label: str
    title: str
    hollow: bool
    index: int  # the drill's place in the series


def trend_svg(trend: Trend, tx: Texts) -> Markup:
    """Minutes per drill for each headline milestone; hollow points are censored (60+ min)."""
    lines = [line for line in trend.lines if line.within_seconds is not None] or trend.lines
    width, height, left, right, top, bottom = 760, 300, 90, 90, 24, 60
    count = len(trend.drills)
    values = [
        v / 60
        for line in lines
        for p in line.points
        for v in (p.bound_seconds if p.censored else p.seconds,)
        if v is not None
    ]
    top_minutes = max([*values, 1.0]) * 1.15
    step = next(s for s in (1, 2, 5, 10, 15, 30, 60, 120, 240, 10_000) if top_minutes / s <= 6)
    inner = width - left - right

    def x(index: int) -> float:
        return round(left + (inner / 2 if count == 1 else index * inner / (count - 1)), 1)

    def y(minutes: float) -> float:
        return round(top + (1 - minutes / top_minutes) * (height - top - bottom), 1)

    parts = []
    tick = 0
    while tick <= top_minutes and tick < 10_000:
        parts.append(
            f'<line x1="{left}" y1="{y(tick)}" x2="{width - right}" y2="{y(tick)}" '
            f'stroke="{COLORS["grid"]}"/><text x="{left - 6}" y="{y(tick) + 3.5}" '
            f'text-anchor="end" class="tick">{esc(tx.minutes(tick))}</text>'
        )
        tick += step
    parts += _drill_labels(trend, x, height - bottom, inner / max(count - 1, 1))
    points: list[_Point] = []
    kinds: dict[str, str] = {}  # drill -> its provenance in words
    for number, line in enumerate(lines):
        color = PALETTE[number % len(PALETTE)]
        mine = _trend_points(line, color, x, y, tx, kinds)
        if len(mine) > 1:
            coords = " ".join(f"{p.x},{p.y}" for p in mine)
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"/>'
            )
        points += mine
    parts += [_point_mark(p) for p in points]
    spacing = inner / max(count - 1, 1)
    parts += _point_labels(
        points if spacing >= LABEL_SPACING else [p for p in points if p.index == count - 1]
    )
    legend_x = float(left)
    for number, line in enumerate(lines):
        label = tx.line_label(line)
        parts.append(
            f'<rect x="{legend_x}" y="{height - 16}" width="10" height="10" '
            f'fill="{PALETTE[number % len(PALETTE)]}"/>'
            f'<text x="{legend_x + 14}" y="{height - 7}" class="tick">{esc(label)}</text>'
        )
        legend_x += 30 + text_width(label)
    style = (
        "<style>.tick{font:10px sans-serif;fill:#566573}.small{font:9px sans-serif;"
        "fill:#85929e}.val{font:600 10px sans-serif}</style>"
    )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{esc(tx("trend"))}" class="trendchart">{style}{"".join(parts)}</svg>'
    )


def _drill_labels(
    trend: Trend, x: Callable[[int], float], base: float, spacing: float
) -> list[str]:
    """Each drill's date, and its id when there is room; with many drills, every n-th date."""
    with_ids = len(trend.drills) == 1 or spacing >= 150
    every = max(1, math.ceil(70 / spacing)) if len(trend.drills) > 1 else 1
    labels = []
    for index, drill in enumerate(trend.drills):
        if (len(trend.drills) - 1 - index) % every:
            continue
        started = next(
            (p.started[:10] for line in trend.lines for p in line.points if p.drill == drill), ""
        )
        labels.append(
            f'<text x="{x(index)}" y="{base + 18}" text-anchor="middle" class="tick">'
            f"{esc(started or drill)}<title>{esc(drill)}</title></text>"
        )
        if with_ids:
            labels.append(
                f'<text x="{x(index)}" y="{base + 31}" text-anchor="middle" class="small">'
                f"{esc(drill)}</text>"
            )
    return labels


def _trend_points(
    line: TrendLine,
    color: str,
    x: Callable[[int], float],
    y: Callable[[float], float],
    tx: Texts,
    kinds: dict[str, str],
) -> list[_Point]:
    points = []
    label = tx.line_label(line)
    for index, point in enumerate(line.points):
        value = point.bound_seconds if point.censored else point.seconds
        if value is None:
            continue
        shown = tx.shown(point.display, point.seconds, point.bound_seconds, point.censored)
        kind = kinds.get(point.drill)
        if kind is None:  # once per drill: every line of a drill has its provenance
            kind = kinds[point.drill] = tx.prov(point.provenance)
        points.append(
            _Point(
                x=x(index),
                y=y(value / 60),
                color=color,
                label=shown,
                title=f"{label}: {shown} ({point.drill}, {kind})",  # a rehearsal says so
                hollow=point.censored,
                index=index,
            )
        )
    return points


def _point_mark(point: _Point) -> str:
    fill = "#fff" if point.hollow else point.color
    return (
        f'<circle cx="{point.x}" cy="{point.y}" r="4" fill="{fill}" stroke="{point.color}" '
        f'stroke-width="2"><title>{esc(point.title)}</title></circle>'
    )


def _point_labels(points: list[_Point]) -> list[str]:
    """Value labels above their points, moved when they would touch another label or point."""
    labels = []
    boxes: dict[float, list[tuple[float, float]]] = {}
    for point in points:
        boxes.setdefault(point.x, []).append((point.y - 5, point.y + 5))
    for point in sorted(points, key=lambda p: (p.x, p.y)):
        used = boxes[point.x]
        for candidate in (point.y - 8, point.y + 16, point.y - 21, point.y + 29):
            box = (candidate - 9, candidate + 2)
            if all(box[1] <= lo or box[0] >= hi for lo, hi in used):
                break
        used.append((candidate - 9, candidate + 2))
        labels.append(
            f'<text x="{point.x}" y="{candidate}" text-anchor="middle" class="val" '
            f'fill="{point.color}">{esc(point.label)}</text>'
        )
    return labels
