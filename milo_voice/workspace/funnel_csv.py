"""The funnel as one tidy CSV (`funnel.csv` on the analytics pages): one row per group of every
table, so a spreadsheet can filter by `section`. Text cells a spreadsheet would run as a formula
are made inert (`scoring.export.neutralise`, the same rule as the results export).

Columns: section, group, invited, opened, started, completed, rate, count, hours.
- section `stages`, `source`, `outreach_channel`: the four stage counts and rate = completed/invited;
- `interview_channel`: started, completed and rate = completed/started;
- `completed_after`: count = completions whose last earlier message was this one;
- `time_to_complete`: group `median` / `p90`, hours;
- `drop_off`: group = the question, count = sessions that stopped there.
"""

from __future__ import annotations

import csv
import io

from milo_voice.scoring.export import neutralise
from milo_voice.workspace.funnel import Funnel, Stages

COLUMNS = ("section", "group", "invited", "opened", "started", "completed", "rate", "count", "hours")


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def funnel_csv(funnel: Funnel) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()

    def stages(section: str, row: Stages) -> None:
        writer.writerow({"section": section, "group": neutralise(row.label), **row.as_dict(),
                         "rate": _rate(row.completion_rate)})

    stages("stages", funnel.total)
    for row in funnel.by_source:
        stages("source", row)
    for row in funnel.by_channel:
        stages("outreach_channel", row)
    for rate in funnel.interview_channels:
        writer.writerow({"section": "interview_channel", "group": neutralise(rate.label),
                         "started": rate.started, "completed": rate.completed, "rate": _rate(rate.rate)})
    for label, count in funnel.completed_after:
        writer.writerow({"section": "completed_after", "group": neutralise(label), "count": count})
    for name, hours in (("median", funnel.median_hours), ("p90", funnel.p90_hours)):
        writer.writerow({"section": "time_to_complete", "group": name,
                         "hours": "" if hours is None else f"{hours:.2f}"})
    for drop in funnel.drop_off:
        writer.writerow({"section": "drop_off", "group": neutralise(drop.question), "count": drop.sessions})
    return out.getvalue()
