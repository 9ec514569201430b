"""Horizontal bar charts for the funnel (server-side SVG geometry; the template draws it). Pure.

Each group is a label and one bar per series (the funnel's stages, or a single count); bars share
one scale, the largest value filling the plot, and every bar carries its number as text so the
chart reads without colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

LABEL_W = 190.0
"""Room on the left for group labels (px)."""
NUMBER_W = 56.0
"""Room on the right of the longest bar for its number."""
BAR_H, BAR_GAP, GROUP_GAP = 14.0, 3.0, 12.0


@dataclass(frozen=True, slots=True)
class HBar:
    x: float
    y: float
    w: float
    h: float
    kind: str
    value: int
    title: str
    """The bar's full description (a tooltip and the accessible text)."""


@dataclass(frozen=True, slots=True)
class GroupLabel:
    y: float
    text: str


@dataclass(frozen=True, slots=True)
class HChart:
    width: float
    height: float
    left: float
    bars: list[HBar]
    labels: list[GroupLabel]
    title: str


def hbars(
    groups: Sequence[tuple[str, Sequence[tuple[str, int]]]], *, title: str, width: float = 640.0
) -> HChart:
    """`groups`: (label, [(series kind, value), ...]); zero values get no bar but keep their number."""
    top = max((v for _, series in groups for _, v in series), default=0) or 1
    plot = width - LABEL_W - NUMBER_W
    bars: list[HBar] = []
    labels: list[GroupLabel] = []
    y = GROUP_GAP / 2
    for label, series in groups:
        labels.append(GroupLabel(round(y + BAR_H - 3, 2), label))
        for kind, value in series:
            w = round(value / top * plot, 2)
            bars.append(HBar(LABEL_W, round(y, 2), w, BAR_H, kind, value, f"{label}: {value} {kind}"))
            y += BAR_H + BAR_GAP
        y += GROUP_GAP
    return HChart(width, round(y, 2), LABEL_W, bars, labels, title)
