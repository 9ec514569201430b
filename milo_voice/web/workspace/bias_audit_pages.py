"""The bias audit (NYC Local Law 144 style, issue 20 item 4) in the workspace: admins only.

`GET /app/bias-audit?interview=&from=&to=` shows, for one interview (its slug, every version) or all of
them and the candidates added in that date range (UTC days, both included), the audit of
`workspace/bias_audit.py`: selection and scoring rates per sex, per race/ethnicity and per intersection,
their impact ratios, the unknowns, the small groups and a warning for each ratio under 0.8.
`/app/bias-audit.csv` and `/app/bias-audit.pdf` take the same query and download the report of
`workspace/bias_report.py`. Aggregates only: no candidate and none of their answers is ever shown.
Every view and download is an audit event (who, which interview, which range); `Cache-Control:
no-store` comes from `security_headers.py` (everything under /app).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from milo_voice.store.repo import Invalid, NotFound
from milo_voice.store.tables import UserRole
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import Workspace, workspace
from milo_voice.workspace.bias_audit import (
    DIMENSION_LABELS,
    DIMENSIONS,
    FOUR_FIFTHS,
    SMALL_SHARE,
    AuditResult,
    Group,
    audit,
    load_rows,
)
from milo_voice.workspace.bias_report import COLUMNS, render_csv, render_pdf

PATH = "/app/bias-audit"
ALL = "all"
"""The `interview` value (also the default) that pools every interview of the workspace."""
DEFAULT_DAYS = 365
"""With no `from`, the range starts this many days before `to` (both days included)."""
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """What to audit: an interview's slug ("" for every interview) and a range of UTC days."""

    slug: str
    start: date
    end: date

    @property
    def interview(self) -> str:
        return self.slug or ALL

    def params(self) -> dict[str, str]:
        return {"interview": self.interview, "from": self.start.isoformat(), "to": self.end.isoformat()}

    def filename(self, extension: str) -> str:
        return f"bias-audit-{self.interview}-{self.start.isoformat()}-{self.end.isoformat()}.{extension}"


def _day(raw: str, name: str) -> date:
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{name} {raw[:40]!r}: expected a date like 2026-01-31") from None
    if not EARLIEST <= day <= LATEST:
        raise Invalid(f"{name} {day.isoformat()}: expected a date from {EARLIEST} to {LATEST}")
    return day


def parse_query(params: Any, today: date) -> AuditQuery:
    """The query of the page and the downloads; `Invalid` for a malformed date or an empty range."""
    slug = str(params.get("interview", "")).strip()
    raw_end, raw_start = str(params.get("to", "")).strip(), str(params.get("from", "")).strip()
    end = _day(raw_end, "to") if raw_end else today
    start = _day(raw_start, "from") if raw_start else end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise Invalid(f"from {start.isoformat()} is after to {end.isoformat()}: nothing to audit")
    return AuditQuery("" if slug == ALL else slug, max(start, EARLIEST), end)


def run_audit(ws: Workspace, query: AuditQuery) -> AuditResult:
    """The audit of the query (blocking: call through the thread pool). Unknown interview: `NotFound`."""
    title = ws.interviews.latest(query.slug).title if query.slug else "All interviews"
    _, rows = load_rows(ws.interviews.engine, query.slug, query.start, query.end)  # "" reads every interview
    return audit(rows, interview=title, start=query.start, end=query.end)


async def _audited(request: Request, action: str, **detail: str) -> tuple[AuditQuery, AuditResult]:
    """Parse, compute and record who looked at which interview over which range."""
    ws = workspace(request)
    query = parse_query(request.query_params, ws.review.now().date())
    result = await run_in_threadpool(run_audit, ws, query)
    await run_in_threadpool(
        lambda: ws.audit.record(
            who(request),
            action,
            "bias_audit",
            query.interview,
            interview=query.interview,
            start=query.start.isoformat(),
            end=query.end.isoformat(),
            population=result.population,
            **detail,
        )
    )
    return query, result


async def _choices(ws: Workspace) -> list[tuple[str, str]]:
    """(slug, title) of every interview, archived ones too (an audit looks back), by title."""
    found = await run_in_threadpool(ws.interviews.summaries)
    found += await run_in_threadpool(lambda: ws.interviews.summaries(archived=True))
    return sorted({(s.interview.slug, s.interview.title) for s in found}, key=lambda c: (c[1].lower(), c[0]))


@dataclass(frozen=True, slots=True)
class Table:
    """One dimension on the page: its rows (the unknowns last) and the categories nobody is in, which
    are named on one line instead of a row of zeros each (the CSV and PDF list them as rows)."""

    key: str
    label: str
    rows: list[Group]
    empty: list[str]


def tables_of(result: AuditResult) -> list[Table]:
    out = []
    for key in DIMENSIONS:
        groups = [g for g in result.groups if g.dimension == key]
        rows = [g for g in groups if g.rates.n or g.unknown]
        out.append(Table(key, DIMENSION_LABELS[key], rows, [g.category for g in groups if g not in rows]))
    return out


def _context(form: dict[str, str], result: AuditResult | None) -> dict[str, Any]:
    """`form`: the query as the form shows it (what was typed, when it was refused)."""
    tables = tables_of(result) if result is not None else []
    return {
        "form": form,
        "result": result,
        "tables": tables,
        "columns": COLUMNS,
        "four_fifths": FOUR_FIFTHS,
        "small_share": SMALL_SHARE,
        "downloads": {ext: f"{PATH}.{ext}" for ext in ("csv", "pdf")},
    }


@page(UserRole.ADMIN)
async def bias_audit_page(request: Request) -> Response:
    ws = workspace(request)
    choices = await _choices(ws)
    try:
        query, result = await _audited(request, "view")
    except (Invalid, NotFound) as exc:
        typed = {key: str(request.query_params.get(key, ""))[:100] for key in ("interview", "from", "to")}
        status = 404 if isinstance(exc, NotFound) else 400
        context = {**_context(typed, None), "interviews": choices, "error": str(exc)}
        return render(request, "bias_audit.html", context, status)
    context = {**_context(query.params(), result), "interviews": choices, "query": query}
    return render(request, "bias_audit.html", context)


@page(UserRole.ADMIN)
async def bias_audit_csv(request: Request) -> Response:
    query, result = await _audited(request, "download", format="csv")
    return Response(
        render_csv(result).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{query.filename("csv")}"'},
    )


@page(UserRole.ADMIN)
async def bias_audit_pdf(request: Request) -> Response:
    query, result = await _audited(request, "download", format="pdf")
    pdf = await run_in_threadpool(render_pdf, result)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{query.filename("pdf")}"'},
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/bias-audit", bias_audit_page),
        Route("/bias-audit.csv", bias_audit_csv),
        Route("/bias-audit.pdf", bias_audit_pdf),
    ]
