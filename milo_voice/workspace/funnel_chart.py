"""The funnel's charts: horizontal bar charts as geometry for an inline SVG the template draws. Pure.

Each chart is a list of groups (a label and one bar per series: the four stages, or one count);
the bars of a chart share one scale, the largest value filling the plot. Every bar carries its
number as text beside it (and a percentage where one means something), and its full description
as a tooltip, so the chart reads without colour; the SVG's title says what it shows, and the
same numbers are in the table under it and in `funnel.csv`. A zero draws no bar but keeps its
number. Bars are SVG paths (the day chart's bars are the page's only `<rect>`s).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from milo_voice.workspace.funnel import STAGES, Funnel, Stages

WIDE, NARROW = (640.0, 200.0), (420.0, 150.0)
"""(width, room on the left for group labels) in px: a chart across the card, a chart in a column."""
CHAR_W = 6.2
"""About one character of a group label (px at the chart's font size); longer labels are cut with
"…" (the tooltip keeps the whole text)."""
NUMBER_W = 76.0
"""Room right of the longest bar for its text ("12 · 100%")."""
BAR_H, BAR_GAP, GROUP_GAP = 14.0, 3.0, 12.0
FILLS = {"invited": "#9bb5ee", "opened": "#b89be8", "started": "#f0b65a", "completed": "#4caf73",
         "stopped": "#e07a6a"}
"""Bar colours by series (the day chart's: added, started, completed)."""


@dataclass(frozen=True, slots=True)
class HBar:
    x: float
    y: float
    w: float
    h: float
    kind: str
    """The series: a stage, or "stopped" for drop-off."""
    value: int
    text: str
    """Shown beside the bar: "3", or "3 · 60%"."""
    title: str
    """The bar's full description (its tooltip)."""

    @property
    def fill(self) -> str:
        return FILLS.get(self.kind, "#9aa3b2")

    @property
    def path(self) -> str:
        """The bar as SVG path data (a rectangle)."""
        return f"M{self.x} {self.y}h{self.w}v{self.h}h{-self.w}z"


@dataclass(frozen=True, slots=True)
class GroupLabel:
    y: float
    text: str
    """The label as drawn (cut to fit the room on the left)."""
    full: str


@dataclass(frozen=True, slots=True)
class HChart:
    width: float
    height: float
    left: float
    bars: list[HBar]
    labels: list[GroupLabel]
    title: str


Series = Sequence[tuple[str, int, str]]
"""(kind, value, text beside the bar)."""


def _cut(text: str, room: float) -> str:
    chars = int(room // CHAR_W)
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def hbars(
    groups: Sequence[tuple[str, Series]], *, title: str, size: tuple[float, float] = WIDE
) -> HChart:
    """`groups`: (label, [(series kind, value, text), ...]) top to bottom; `size`: `WIDE` or `NARROW`."""
    width, left = size
    top = max((v for _, series in groups for _, v, _ in series), default=0) or 1
    plot = width - left - NUMBER_W
    bars: list[HBar] = []
    labels: list[GroupLabel] = []
    y = GROUP_GAP / 2
    for label, series in groups:
        labels.append(GroupLabel(round(y + BAR_H - 3, 2), _cut(label, left - 10), label))
        for kind, value, text in series:
            w = round(value / top * plot, 2)
            bars.append(HBar(left, round(y, 2), w, BAR_H, kind, value, text, f"{label}: {text} {kind}"))
            y += BAR_H + BAR_GAP
        y += GROUP_GAP
    return HChart(width, round(y, 2), left, bars, labels, title)


def _percent(part: int, whole: int) -> str:
    return f"{part} · {part / whole:.0%}" if whole else str(part)


def _stage_series(g: Stages) -> Series:
    """The four stages of a group; the completed bar says its share of the invited."""
    return [(s, getattr(g, s), _percent(g.completed, g.invited) if s == "completed" else str(getattr(g, s)))
            for s in STAGES]


def charts(funnel: Funnel) -> dict[str, HChart]:
    """Every chart of the funnel section, by the name the template uses."""
    total = funnel.total
    stages = [(s.capitalize(), [(s, getattr(total, s), _percent(getattr(total, s), total.invited))])
              for s in STAGES]
    after = sum(n for _, n in funnel.completed_after)
    return {
        "stages": hbars(stages, title="Candidates added in the period: invited, opened their link, "
                                      "started, completed (number and share of the invited)"),
        "source": hbars([(g.label, _stage_series(g)) for g in funnel.by_source],
                        title="Invited, opened, started and completed by how candidates were added",
                        size=NARROW),
        "channel": hbars([(g.label, _stage_series(g)) for g in funnel.by_channel],
                         title="Invited, opened, started and completed by the outreach channels that "
                               "reached the candidate", size=NARROW),
        "interview": hbars([(g.label, _stage_series(g)) for g in funnel.by_interview],
                           title="Invited, opened, started and completed by interview"),
        "after": hbars([(label, [("completed", n, _percent(n, after))])
                        for label, n in funnel.completed_after],
                       title="Completions by the last message sent before the interview started",
                       size=NARROW),
        "drop": hbars([(d.label, [("stopped", d.sessions, str(d.sessions))]) for d in funnel.drop_off],
                      title="Unfinished interviews by the last question they reached", size=NARROW),
    }
