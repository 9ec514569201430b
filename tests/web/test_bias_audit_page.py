"""The bias-audit page (/app/bias-audit) and its CSV and PDF over the real app (Starlette TestClient, real
SQLite): a population of ten assessed candidates whose self-identification goes through the real writer,
whose sessions are scored (the stored score of the session that counts) and some shortlisted. The page's
figures, the downloads' figures, the audit trail, and who may see it (admins only)."""

from __future__ import annotations

import csv
import html
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from workspace.support import ADMIN, PASSWORD, VIEWER, login
from workspace.test_bias_audit import END, START
from workspace.test_bias_audit import population as hundred
from workspace.test_browser import CHROMIUM, FLAGS, server  # noqa: F401  (the fixture)

from milo_voice.calls.session_store import SessionStore
from milo_voice.scoring.result import ScoreCard
from milo_voice.scoring.rubric import Bands
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Settings
from milo_voice.store.db import create_engine
from milo_voice.store.tables import AuditEvent
from milo_voice.web.app import create_app
from milo_voice.web.workspace.bias_audit_pages import AuditQuery, _context
from milo_voice.web.workspace.render import templates
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.bias_audit import audit
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.self_identification import SelfIdentifications

# name: (sex, race/ethnicity, overall score, shortlisted); None: never self-identified
POPULATION: dict[str, tuple[tuple[str, str] | None, float, bool]] = {
    "Fay White": (("female", "white"), 80.0, True),
    "Flo White": (("female", "white"), 40.0, False),
    "Fern Black": (("female", "black_or_african_american"), 70.0, False),
    "Fia Black": (("female", "black_or_african_american"), 30.0, False),
    "Max White": (("male", "white"), 90.0, True),
    "Mo White": (("male", "white"), 60.0, True),
    "Mel Black": (("male", "black_or_african_american"), 50.0, True),
    "Mik Black": (("male", "black_or_african_american"), 20.0, False),
    "Dee Declined": (("declined", "asian"), 55.0, False),
    "Nia Nothing": (None, 65.0, True),
}
"""Worked out by hand: 10 assessed, 5 selected, all scored, median (55 + 60) / 2 = 57.5.
Sex: Female 4, 1 selected (0.250), 2 above the median (0.500); Male 4, 3 selected (0.750), 2 above (0.500);
unknown 2 (declined, nothing). Female's selection impact ratio 0.25 / 0.75 = 0.33: a warning.
Race: White 4, 3 selected (0.750), 3 above (0.750); Black 4, 1 selected (0.250), 1 above (0.250);
Asian 1 (10%, not small), 0 selected; unknown 1. Black's ratios 0.33 and 0.33, Asian's 0.00: warnings.
The empty categories (Hispanic or Latino, ...) are flagged small (named on one line under the table)."""


def score(store: SessionStore, candidate_id: int, interview_id: int, overall: float, folder: Path) -> int:
    """A completed session of the candidate (their status becomes completed) with a stored score."""
    sid = store.start_session(
        candidate_id=candidate_id,
        interview_id=interview_id,
        channel="simulate",
        recording_dir=str(folder),
        settings={},
    )
    store.end_session(session_id=sid, status="completed", duration_s=60.0, recording_path=None)
    scoring, bands = ScoringStore(store.engine), Bands()
    scoring.add_score(
        scoring.context(sid),
        ScoreCard(
            scorer="offline",
            scorer_label="Offline",
            model="",
            prompt_hash="0" * 64,
            created_at=datetime.now(UTC),
            bands=bands,
            overall=overall,
            band=bands.band(overall),
            knockout=None,
            needs_review=False,
            review_reasons=[],
            questions=[],
        ),
    )
    return sid


def interview(store: SessionStore, title: str) -> str:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title=title, questions=(QuestionForm("Why this job?"),)))
    interviews.publish(row.slug)
    return row.slug


@pytest.fixture
def population(store: SessionStore, tmp_path: Path) -> dict[str, str]:
    return seed(store, tmp_path)


def seed(store: SessionStore, tmp_path: Path) -> dict[str, str]:
    """The ten candidates of interview "Warehouse associate", and two of another interview; the slugs."""
    warehouse, other = interview(store, "Warehouse associate"), interview(store, "Night driver")
    people, answers = Candidates(store.engine), SelfIdentifications(store.engine)
    for name, (given, overall, shortlisted) in POPULATION.items():
        c = people.add(slug=warehouse, name=name)
        assert c.id is not None
        score(store, c.id, c.interview_id, overall, tmp_path / name)
        if shortlisted:
            people.decide([c.id], "shortlisted")
        if given is not None:
            answers.record(c.id, sex=given[0], race_ethnicity=given[1])
    for name, given in (("Dan Driver", ("male", "hispanic_or_latino")), ("Dora Driver", ("female", "white"))):
        c = people.add(slug=other, name=name)
        assert c.id is not None
        score(store, c.id, c.interview_id, 50.0, tmp_path / name)
        answers.record(c.id, sex=given[0], race_ethnicity=given[1])
    people.add(slug=warehouse, name="Ivy Invited")  # not assessed: not in the audit
    return {"warehouse": warehouse, "other": other}


@pytest.fixture
def users(store: SessionStore) -> dict[str, int]:
    accounts = Accounts(store.engine)
    admin = accounts.create_user(email=ADMIN, password=PASSWORD, role="admin", name="Ada Admin")
    viewer = accounts.create_user(email=VIEWER, password=PASSWORD, role="viewer", name="Vic Viewer")
    assert admin.id is not None and viewer.id is not None
    return {"admin": admin.id, "viewer": viewer.id}


@pytest.fixture
def admin(settings: Settings, store: SessionStore, users: dict[str, int]) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store.engine), base_url="http://testserver") as c:
        login(c, ADMIN)
        yield c


def days() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}


def row_of(page: str, table: str, category: str) -> dict[str, str]:
    """The cells (by class) of one category's row in one dimension's table, as plain text."""
    body = page.split(f'id="table-{table}"', 1)[1].split("</table>", 1)[0]
    found = re.search(rf'<tr data-category="{re.escape(html.escape(category))}"[^>]*>(.*?)</tr>', body, re.S)
    assert found, f"{table}: no row {category}"
    cells = re.findall(r'<td(?: class="([\w-]+)")?>(.*?)</td>', found.group(1), re.S)
    return {cls: html.unescape(re.sub(r"<[^>]+>", "", text)).strip() for cls, text in cells if cls}


def events(store: SessionStore) -> list[AuditEvent]:
    return [e for e in reversed(Audit(store.engine).recent()) if e.target_type == "bias_audit"]


def test_the_admin_sees_the_figures_of_the_population_and_the_view_is_audited(
    admin: TestClient, store: SessionStore, population: dict[str, str], users: dict[str, int]
) -> None:
    page = admin.get("/app/bias-audit", params={"interview": population["warehouse"], **days()})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    totals = {
        k: re.search(rf'<b id="{k}">([^<]*)</b>', text).group(1)  # type: ignore[union-attr]
        for k in ("population", "selected", "scored", "median", "unknown-sex", "unknown-race")
    }
    assert totals == {
        "population": "10",
        "selected": "5",
        "scored": "10",
        "median": "57.5",
        "unknown-sex": "2",
        "unknown-race": "1",
    }
    female, male = row_of(text, "sex", "Female"), row_of(text, "sex", "Male")
    assert (female["n"], female["selected"], female["selection-rate"]) == ("4", "1", "0.250")
    assert female["selection-ratio"] == "0.33 < 0.8" and female["scoring-ratio"] == "1.00"
    assert (male["selection-rate"], male["selection-ratio"], male["scoring-rate"]) == (
        "0.750",
        "1.00",
        "0.500",
    )
    assert (
        row_of(text, "sex", "Unknown")["n"] == "2"
        and row_of(text, "sex", "Unknown")["selection-ratio"] == "-"
    )
    black = row_of(text, "race_ethnicity", "Black or African American")
    assert (black["selection-ratio"], black["scoring-ratio"]) == ("0.33 < 0.8", "0.33 < 0.8")
    asian = row_of(text, "race_ethnicity", "Asian")
    assert (asian["n"], asian["selection-ratio"]) == ("1", "0.00 < 0.8") and "small" not in asian
    empty = re.search(r'<p class="muted" id="empty-race_ethnicity">(.*?)</p>', text).group(1)  # type: ignore[union-attr]
    assert "small" in empty and "Hispanic or Latino, Native Hawaiian or Other Pacific Islander" in empty
    assert 'data-category="Hispanic or Latino"' not in text, "the empty categories are one line, not rows"
    both = row_of(text, "intersection", "Male / White")
    assert (both["n"], both["selection-rate"], both["selection-ratio"]) == ("2", "1.000", "1.00")
    assert (
        row_of(text, "intersection", "Female / Black or African American")["selection-ratio"] == "0.00 < 0.8"
    )
    warnings = re.findall(r'<li class="warning">(.*?)</li>', text)
    assert "WARNING: Sex Female: selection impact ratio 0.33 is under 0.8 (the four-fifths rule)" in warnings
    assert (
        "WARNING: Race/ethnicity Asian: scoring impact ratio 0.00 is under 0.8 (the four-fifths rule)"
        in warnings
    )
    assert not any("Sex Male" in w for w in warnings) and len(warnings) == text.count("&lt; 0.8</span>")
    for name in (*POPULATION, "Dan Driver"):  # aggregates only: no candidate is named
        assert name not in text
    params = f"interview={population['warehouse']}&amp;from={days()['from']}&amp;to={days()['to']}"
    assert f'href="/app/bias-audit.csv?{params}"' in text and f'href="/app/bias-audit.pdf?{params}"' in text
    (view,) = events(store)
    assert (view.action, view.user_id, view.actor, view.target_id) == (
        "view",
        users["admin"],
        ADMIN,
        population["warehouse"],
    )
    assert view.detail == {
        "interview": population["warehouse"],
        "start": days()["from"],
        "end": days()["to"],
        "population": 10,
    }


def test_all_interviews_pool_and_the_range_and_the_interview_are_checked(
    admin: TestClient, store: SessionStore, population: dict[str, str]
) -> None:
    pooled = admin.get("/app/bias-audit", params={"interview": "all", **days()}).text
    assert '<b id="population">12</b>' in pooled and "All interviews" in pooled
    assert row_of(pooled, "race_ethnicity", "Hispanic or Latino")["n"] == "1"
    default = admin.get("/app/bias-audit")  # every interview, the last 365 days up to today
    assert default.status_code == 200 and '<b id="population">12</b>' in default.text
    later = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    empty = admin.get("/app/bias-audit", params={"from": later, "to": later}).text
    assert '<b id="population">0</b>' in empty and 'id="no-data"' in empty and 'id="warnings"' not in empty
    for params, status, message in (
        ({"from": "2026-13-01"}, 400, "from &#39;2026-13-01&#39;: expected a date like 2026-01-31"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, 400, "from 2026-03-02 is after to 2026-03-01"),
        ({"interview": "no-such-job"}, 404, "does not exist"),
    ):
        refused = admin.get("/app/bias-audit", params=params)
        assert refused.status_code == status and message in refused.text, params
        assert 'id="audit-filters"' in refused.text and 'id="totals"' not in refused.text
        assert admin.get("/app/bias-audit.csv", params=params).status_code == status
    assert admin.get("/app/bias-audit.pdf", params={"to": "x"}).status_code == 400
    assert [(e.target_id, e.detail["population"]) for e in events(store)] == [
        ("all", 12),
        ("all", 12),
        ("all", 0),
    ]


def test_the_downloads_carry_the_same_figures_and_are_audited(
    admin: TestClient, store: SessionStore, population: dict[str, str], users: dict[str, int], tmp_path: Path
) -> None:
    query = {"interview": population["warehouse"], **days()}
    got = admin.get("/app/bias-audit.csv", params=query)
    assert got.status_code == 200 and got.headers["content-type"] == "text/csv; charset=utf-8"
    assert got.headers["cache-control"] == "no-store"
    assert got.headers["content-disposition"] == (
        f'attachment; filename="bias-audit-{population["warehouse"]}-{days()["from"]}-{days()["to"]}.csv"'
    )
    rows = {
        (r["dimension"], r["category"]): r
        for r in csv.DictReader(line for line in got.text.splitlines() if not line.startswith("#"))
    }
    female = rows[("Sex", "Female")]
    assert (female["n"], female["selected"], female["selection_rate"], female["selection_impact_ratio"]) == (
        "4",
        "1",
        "0.250",
        "0.333",
    )
    assert rows[("Race/ethnicity", "Hispanic or Latino")]["small_group"] == "yes"
    assert "# Bias audit: Warehouse associate" in got.text
    assert "# Assessed candidates: 10; selected: 5; scored: 10; median overall score: 57.5" in got.text
    pdf = admin.get("/app/bias-audit.pdf", params=query)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and pdf.headers["cache-control"] == "no-store"
    (tmp_path / "audit.pdf").write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "audit.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Bias audit: Warehouse associate" in text and "median overall score: 57.5" in text
    assert "WARNING: Sex Female: selection impact ratio 0.33 is under 0.8" in text
    downloads = [(e.action, e.detail.get("format"), e.user_id, e.target_id) for e in events(store)]
    assert downloads == [
        ("download", "csv", users["admin"], population["warehouse"]),
        ("download", "pdf", users["admin"], population["warehouse"]),
    ]
    audit_page = admin.get("/app/audit").text
    assert "bias_audit" in audit_page and f"start={days()['from']}" in audit_page


def test_only_admins_see_the_page_and_its_link(
    settings: Settings,
    store: SessionStore,
    population: dict[str, str],
    users: dict[str, int],
    admin: TestClient,
) -> None:
    assert 'href="/app/bias-audit"' in admin.get("/app/interviews").text
    with TestClient(create_app(settings, store.engine), base_url="http://testserver") as viewer:
        login(viewer, VIEWER)
        assert 'href="/app/bias-audit"' not in viewer.get("/app/interviews").text
        for path in ("/app/bias-audit", "/app/bias-audit.csv", "/app/bias-audit.pdf"):
            refused = viewer.get(path, params={"interview": population["warehouse"], **days()})
            assert refused.status_code == 403 and "Admins only" in refused.text, path
            assert "Female" not in refused.text
    with TestClient(create_app(settings, store.engine), base_url="http://testserver") as anonymous:
        first = anonymous.get("/app/bias-audit", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"].startswith("/app/login?next=")
    assert events(store) == [], "a refused request computes and records nothing"


@pytest.mark.e2e
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium")
def test_the_page_in_chromium(server: Settings, tmp_path: Path) -> None:  # noqa: F811
    """The page in headless Chromium against the app under uvicorn (the `server` fixture of
    workspace/test_browser.py); its screenshot goes to $WORKSPACE_SCREENSHOTS when set (docs/screenshots/)."""
    from playwright.sync_api import expect, sync_playwright

    store = SessionStore(create_engine(server.database_url))
    slugs = seed(store, tmp_path)
    store.engine.dispose()
    shot = tmp_path / "bias-audit.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            base = f"http://127.0.0.1:{server.port}"
            page = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base).new_page()
            page.set_default_timeout(15_000)
            page.goto("/app/login")
            page.fill("input[name=email]", "first@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.click("nav a:has-text('Bias audit')")
            page.select_option("select[name=interview]", slugs["warehouse"])
            page.fill("input[name=from]", days()["from"])
            page.fill("input[name=to]", days()["to"])
            page.click("#audit-filters button")
            expect(page.locator("#population")).to_have_text("10")
            expect(page.locator("#warnings")).to_contain_text("Sex Female: selection impact ratio 0.33")
            with page.expect_download() as download:
                page.click("#download-csv")
            assert "Sex,Female,4," in Path(download.value.path()).read_text()
            page.screenshot(path=shot, full_page=True)
        finally:
            browser.close()
    target = os.environ.get("WORKSPACE_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(target) / shot.name)


def test_a_small_group_that_is_not_empty_is_a_flagged_row_without_ratios() -> None:
    """The hand-worked population of 100 (tests/workspace/test_bias_audit.py): American Indian or Alaska
    Native has 1 candidate (1%, under 2%), so it is a row flagged small, with rates and no impact ratio."""
    result = audit(hundred(), interview="Warehouse associate", start=START, end=END)
    query = AuditQuery("", START, END)
    context = {**_context(query.params(), result), "query": query, "interviews": [], "me": None, "csrf": ""}
    text = templates.get_template("recruiter/bias_audit.html").render(**context)
    native = row_of(text, "race_ethnicity", "American Indian or Alaska Native")
    assert (native["n"], native["selection-rate"], native["selection-ratio"], native["small"]) == (
        "1",
        "1.000",
        "-",
        "small",
    )
    assert row_of(text, "race_ethnicity", "White")["small"] == "" and 'id="empty-race_ethnicity"' in text
    assert "small" not in row_of(text, "sex", "Female"), "no small column where nobody is small"
    assert len(re.findall(r'<li class="warning">', text)) == len(result.warnings) == 18
