"""Geometry of the analytics chart, an inline SVG the template draws: bars per UTC day, a labelled
date axis and a count axis. Pure: numbers and labels only, no markup.

Each day gets a slot of three bars (candidates added, sessions started, sessions completed); a
count of 0 draws no bar.
Day labels are spaced to fit (at most one per `LABEL_SPACING` pixels) and counted back from the
newest day, so today is always labelled. The count axis rounds the busiest day up to a step of
1, 2 or 5 times a power of ten.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from milo_voice.workspace.analytics import Day

SERIES = ("added", "started", "completed")
"""The bars of one day, left to right (also their CSS classes)."""
LABEL_SPACING = 64
"""Least pixels between two day labels ("10 Mar" is about 40 px at the chart's font size)."""
LEFT, RIGHT, TOP, BOTTOM = 36, 12, 8, 34
"""Margins (px) around the plot: count labels on the left, day labels and the caption below."""


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    kind: str
    """One of `SERIES`."""
    label: str
    """Tooltip: "2026-03-10: 2 started"."""


@dataclass(frozen=True, slots=True)
class Tick:
    """A labelled day on the date axis."""

    x: float
    label: str
    """"10 Mar"."""
    anchor: str
    """SVG text-anchor: "middle", or "start"/"end" near the edges so the text stays inside."""


@dataclass(frozen=True, slots=True)
class Level:
    """A horizontal grid line of the count axis."""

    y: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: float
    right: float
    """x of the plot's right edge."""
    base: float
    """y of the plot's baseline (count 0)."""
    top_count: int
    """Count at the top of the plot (the busiest day rounded up)."""
    bars: list[Bar]
    ticks: list[Tick]
    levels: list[Level]


def count_step(peak: int) -> int:
    """A grid step of 1, 2 or 5 x 10^n giving at most 4 lines up to `peak`."""
    if peak <= 4:
        return 1
    magnitude = 10 ** math.floor(math.log10(peak / 4))
    return next(m * magnitude for m in (1, 2, 5, 10) if peak / (m * magnitude) <= 4)


def label_every(days: int, plot_width: float) -> int:
    """Label every n-th day so that labels are at least `LABEL_SPACING` px apart."""
    fit = max(1, int(plot_width // LABEL_SPACING))
    return max(1, math.ceil(days / fit))


def chart(days: Sequence[Day], *, width: int = 720, height: int = 220) -> Chart:
    """Bars, day labels and count levels for `days` (oldest first) in a `width` x `height` box."""
    right, base = width - RIGHT, height - BOTTOM
    plot_w, plot_h = right - LEFT, base - TOP
    peak = max((max(d.added, d.started, d.completed) for d in days), default=0)
    step = count_step(peak)
    top_count = max(step, math.ceil(peak / step) * step)
    slot = plot_w / max(len(days), 1)
    bar_w = slot * 0.8 / len(SERIES)
    bars = []
    for i, d in enumerate(days):
        for j, kind in enumerate(SERIES):
            value: int = getattr(d, kind)
            if value == 0:  # no bar (the days table lists the zeros)
                continue
            h = round(value / top_count * plot_h, 2)  # rounded once: the bar's top plus height is the base
            x = LEFT + i * slot + slot * 0.1 + j * bar_w
            label = f"{d.day.isoformat()}: {value} {kind}"
            bars.append(Bar(round(x, 2), round(base - h, 2), round(bar_w, 2), h, kind, label))
    every = label_every(len(days), plot_w)
    ticks = []
    for i in range(len(days) - 1, -1, -every):
        x = LEFT + (i + 0.5) * slot
        anchor = "end" if right - x < 20 else ("start" if x - LEFT < 20 else "middle")
        ticks.append(Tick(round(x, 2), f"{days[i].day.day} {days[i].day:%b}", anchor))
    levels = [Level(round(base - c / top_count * plot_h, 2), str(c)) for c in range(0, top_count + 1, step)]
    return Chart(width, height, LEFT, right, base, top_count, bars, ticks[::-1], levels)
