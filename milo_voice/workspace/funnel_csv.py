"""The funnel as one tidy CSV (`funnel.csv` beside each analytics page): one row per group of every
table the page shows, so a spreadsheet filters by `dimension`. UTF-8, CRLF line ends (RFC 4180).
Text cells a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage
return) get a leading apostrophe (`scoring.export.neutralise`, the results export's rule).

Columns: dimension, value, invited, opened, started, completed, completion_rate, count, hours.
Rates are fractions with four decimals ("0.5000"); an empty cell means "not applicable".

| dimension | value | filled |
|---|---|---|
| `all` | "All candidates" | the four stages; completion_rate = completed / invited |
| `source` | Added by hand, Bulk, API, Share link, ATS, Unknown | the same |
| `outreach_channel` | email, sms, email + sms, none | the same |
| `interview` (workspace-wide only) | the interview's title | the same |
| `interview_channel` | browser, phone | started, completed; completion_rate = completed / started |
| `completed_after` | Invitation, Reminder after 24 h, ... No message | count = completions |
| `time_to_complete` | median, p90 | hours from being added to completing |
| `drop_off` | the question ("Q2: ...", workspace-wide "Title · Q2: ...") | count = unfinished sessions |
"""

from __future__ import annotations

import csv
import io
from typing import Any

from milo_voice.scoring.export import neutralise
from milo_voice.workspace.funnel import Funnel, Stages

COLUMNS = ("dimension", "value", "invited", "opened", "started", "completed", "completion_rate", "count",
           "hours")


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def records(funnel: Funnel) -> list[dict[str, Any]]:
    """The CSV's rows as dicts (before neutralising)."""
    def stages(dimension: str, row: Stages) -> dict[str, Any]:
        return {"dimension": dimension, "value": row.label, **row.as_dict(),
                "completion_rate": _rate(row.completion_rate)}

    out = [stages("all", funnel.total)]
    out += [stages("source", row) for row in funnel.by_source]
    out += [stages("outreach_channel", row) for row in funnel.by_channel]
    out += [stages("interview", row) for row in funnel.by_interview]
    out += [{"dimension": "interview_channel", "value": r.label, "started": r.started,
             "completed": r.completed, "completion_rate": _rate(r.rate)} for r in funnel.interview_channels]
    out += [{"dimension": "completed_after", "value": label, "count": n}
            for label, n in funnel.completed_after]
    out += [{"dimension": "time_to_complete", "value": name, "hours": "" if h is None else f"{h:.2f}"}
            for name, h in (("median", funnel.median_hours), ("p90", funnel.p90_hours))]
    out += [{"dimension": "drop_off", "value": d.label, "count": d.sessions} for d in funnel.drop_off]
    return out


def funnel_csv(funnel: Funnel) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for record in records(funnel):
        writer.writerow({k: neutralise(record.get(k, "")) for k in COLUMNS})
    return out.getvalue()
