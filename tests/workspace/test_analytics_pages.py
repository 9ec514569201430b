"""The analytics pages through the real app on a pinned clock: the workspace tab and one interview's
page show each UTC day's counts, spend and the hours-saved estimate from their formulas."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.web.app import create_app
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.review import Review
from workspace.support import VIEWER, login

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
MIDNIGHT = datetime(2026, 3, 10, tzinfo=UTC)
PRICE, MINUTES = 0.9, 30.0  # not the defaults, so the page must read the settings


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> datetime:
        return self.at


@dataclass(frozen=True)
class Attempt:
    interview: str
    """"a" or "b"."""
    added: datetime
    sessions: tuple[tuple[datetime, str, float | None, float | None], ...] = ()
    """(started, status, duration_s, cpu_s); "live" sessions are never ended."""


SEED = [
    Attempt("a", MIDNIGHT, ((MIDNIGHT + timedelta(minutes=2), "completed", 600.0, 31.5),)),
    Attempt(
        "a",
        MIDNIGHT - timedelta(minutes=30),
        (
            (MIDNIGHT - timedelta(minutes=25), "interrupted", 90.0, 4.0),
            (MIDNIGHT - timedelta(minutes=10), "completed", 1200.0, None),  # ends after midnight
        ),
    ),
    Attempt("b", MIDNIGHT - timedelta(seconds=1), ((NOW - timedelta(hours=1), "live", None, None),)),
    Attempt("b", NOW - timedelta(days=4), ((NOW - timedelta(days=4), "completed", 420.0, 20.0),)),
    Attempt("a", NOW - timedelta(days=45), ((NOW - timedelta(days=45), "completed", 300.0, 9.0),)),
]


@pytest.fixture
def seeded(store: SessionStore) -> dict[str, str]:
    """Two published interviews and the SEED's candidates and sessions, each at its own time."""
    clock = Clock()
    interviews = Interviews(store.engine, now=clock)
    slugs = {}
    for key, title in (("a", "Barista"), ("b", "Baker")):
        row = interviews.create(InterviewForm(title=title, questions=(QuestionForm("Why coffee?"),)))
        interviews.publish(row.slug)
        slugs[key] = row.slug
    candidates, writer = Candidates(store.engine, now=clock), SessionStore(store.engine, now=clock)
    for i, attempt in enumerate(SEED):
        clock.at = attempt.added
        person = candidates.add(slug=slugs[attempt.interview], name=f"Person {i}")
        for started, status, duration, cpu in attempt.sessions:
            clock.at = started
            sid = writer.start_session(
                candidate_id=person.id or 0,
                interview_id=person.interview_id,
                channel="simulate",
                recording_dir="x",
                settings={},
            )
            if status != "live":
                clock.at = started + timedelta(seconds=duration or 0)
                writer.end_session(
                    session_id=sid, status=status, duration_s=duration, recording_path=None, cpu_s=cpu
                )
    return slugs


@pytest.fixture
def client(settings: Settings, store: SessionStore, users: dict[str, int]) -> Iterator[TestClient]:
    tuned = settings.with_overrides(cpu_price_per_hour=PRICE, minutes_per_screen=MINUTES)
    with TestClient(create_app(tuned, store.engine, now=lambda: NOW), base_url="http://testserver") as c:
        login(c, VIEWER)
        yield c


def window(days: int) -> list[date]:
    return [NOW.date() - timedelta(days=i) for i in range(days)]


def expected(days: int, interview: str | None = None) -> dict[date, tuple[int, int, int]]:
    """(added, started, completed) per UTC day, counted straight from SEED."""
    chosen = [a for a in SEED if interview in (None, a.interview)]
    added = Counter(a.added.astimezone(UTC).date() for a in chosen)
    started = Counter(s[0].date() for a in chosen for s in a.sessions)
    completed = Counter(s[0].date() for a in chosen for s in a.sessions if s[1] == "completed")
    return {d: (added[d], started[d], completed[d]) for d in window(days)}


def shown_days(html: str) -> dict[date, tuple[int, int, int]]:
    rows = re.findall(
        r'<tr data-day="([\d-]+)"><td>[\d-]+</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>', html
    )
    return {date.fromisoformat(d): (int(a), int(s), int(c)) for d, a, s, c in rows}


def number(html: str, element_id: str) -> float:
    found = re.search(rf'id="{element_id}">\$?([\d.]+)<', html)
    assert found, f"no #{element_id} on the page"
    return float(found.group(1))


def sessions_in(
    days: int, interview: str | None = None
) -> list[tuple[datetime, str, float | None, float | None]]:
    first = window(days)[-1]
    return [s for a in SEED if interview in (None, a.interview) for s in a.sessions if s[0].date() >= first]


def test_the_workspace_tab_counts_every_interview_per_utc_day(
    client: TestClient, seeded: dict[str, str]
) -> None:
    page = client.get("/app/analytics")
    assert page.status_code == 200
    assert 'href="/app/analytics"' in page.text  # the recruiter nav links to it
    assert shown_days(page.text) == expected(30)
    totals = expected(30).values()
    assert number(page.text, "total-added") == sum(t[0] for t in totals)
    assert number(page.text, "total-started") == sum(t[1] for t in totals)
    assert number(page.text, "total-completed") == sum(t[2] for t in totals)
    today = NOW.date()
    assert f'data-day="{today}"' in page.text and f'data-day="{today - timedelta(days=30)}"' not in page.text
    assert f">{today.day} {today:%b}</text>" in page.text  # the date axis labels today


def test_spend_and_hours_saved_follow_the_formulas_and_settings(
    client: TestClient, seeded: dict[str, str], store: SessionStore
) -> None:
    page = client.get("/app/analytics").text
    ended = [s for s in sessions_in(30) if s[1] != "live"]
    cpu = sum(s[3] or 0.0 for s in ended)
    assert number(page, "interview-minutes") == round(sum(s[2] or 0.0 for s in ended) / 60, 1)
    assert number(page, "cpu-seconds") == round(cpu, 1)
    assert number(page, "cpu-cost") == round(cpu / 3600 * PRICE, 4)
    unmeasured = sum(s[3] is None for s in ended)
    assert unmeasured == 1 and f"not measured: {unmeasured} session " in page
    completed = sum(s[1] == "completed" for s in sessions_in(30))
    assert number(page, "hours-saved") == round(completed * MINUTES / 60, 1)
    assert "estimate" in page and "MILO_MINUTES_PER_SCREEN" in page and "MILO_CPU_PRICE_PER_HOUR" in page
    stored = Review(store.engine).workspace_rows(datetime(2000, 1, 1, tzinfo=UTC))[1]
    by_start = {row.started_at: row.cpu_s for row in stored}
    assert by_start == {s[0]: s[3] for a in SEED for s in a.sessions}  # end_session stored cpu_s


def test_a_longer_range_reaches_older_days(client: TestClient, seeded: dict[str, str]) -> None:
    page = client.get("/app/analytics?days=90").text
    assert shown_days(page) == expected(90)
    assert sum(c for _, _, c in expected(90).values()) > sum(c for _, _, c in expected(30).values())


def test_one_interviews_page_counts_only_its_own_rows(client: TestClient, seeded: dict[str, str]) -> None:
    page = client.get(f"/app/interviews/{seeded['a']}/analytics?days=7")
    assert page.status_code == 200
    assert shown_days(page.text) == expected(7, "a") != expected(7)
    assert number(page.text, "hours-saved") == round(
        sum(s[1] == "completed" for s in sessions_in(7, "a")) * MINUTES / 60, 1
    )
    assert f">{NOW.day} {NOW:%b}</text>" in page.text


@pytest.mark.parametrize("days", ["abc", "6", "366", "2.5"])
def test_a_bad_range_is_a_clear_400(client: TestClient, seeded: dict[str, str], days: str) -> None:
    for path in ("/app/analytics", f"/app/interviews/{seeded['a']}/analytics"):
        response = client.get(f"{path}?days={days}")
        assert response.status_code == 400
        assert response.text == f"days={days!r}: expected a whole number of days from 7 to 365"
