"""The outreach funnel (issue 16) over real rows on a pinned clock: candidates added with their
sources, links opened through `Candidates.mark_opened`, sessions written by the real SessionStore
(one through `tests/workspace/sessions.py`), messages through the real Outbox (scheduled, handed
over, sent, failed, suppressed). Checked: the stage counts overall, by source, by outreach and
interview channel; the message each completion is credited to; the median and p90 time to
complete; drop-off by question; the charts on both Analytics pages; `funnel.csv` parsed with `csv`;
a formula-looking interview title made inert; and that the rows are read in a fixed number of queries."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.types import ChannelName, MessageKind, Receipt
from milo_voice.settings import Settings
from milo_voice.store.tables import CandidateSource
from milo_voice.web.app import create_app
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.funnel import CandidateRow, MessageRow, SessionRow, VersionRow, compute, message_key
from milo_voice.workspace.funnel_rows import FunnelData
from milo_voice.workspace.interviews import Interviews
from workspace.sessions import store_session
from workspace.support import VIEWER, login

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
BASE = NOW - timedelta(days=6)
QUESTIONS = ("Why coffee?", "Tell me about a busy shift.", "When can you start?")
EVIL = '=HYPERLINK("http://evil.example","click")'


def at(hours: float) -> datetime:
    return BASE + timedelta(hours=hours)


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> datetime:
        return self.at


class World:
    """The repositories of one test database, all on one movable clock."""

    def __init__(self, store: SessionStore, directory: Path) -> None:
        self.clock = Clock()
        self.interviews = Interviews(store.engine, now=self.clock)
        self.candidates = Candidates(store.engine, now=self.clock)
        self.sessions = SessionStore(store.engine, now=self.clock)
        self.outbox = Outbox(store.engine, now=self.clock)
        self.directory = directory

    def interview(self, title: str, questions: tuple[str, ...]) -> tuple[str, int]:
        self.clock.at = BASE - timedelta(days=60)
        form = InterviewForm(title=title, questions=tuple(map(QuestionForm, questions)))
        row = self.interviews.create(form)
        published = self.interviews.publish(row.slug)
        assert published.id is not None
        return published.slug, published.id

    def add(self, slug: str, name: str, hours: float, source: CandidateSource, **contact: str) -> int:
        self.clock.at = at(hours)
        person = self.candidates.add(slug=slug, name=name, source=source, **contact)
        assert person.id is not None
        return person.id

    def opened(self, candidate_id: int, hours: float) -> None:
        self.clock.at = at(hours)
        assert self.candidates.mark_opened(candidate_id)
        assert not self.candidates.mark_opened(candidate_id)  # the first open is kept

    def message(self, candidate_id: int, key: str, hours: float, outcome: str = "sent") -> None:
        """A message under the planner's dedupe key (kind:[hours:]channel:id), taken to `outcome`."""
        kind, channel = MessageKind(key.split(":")[0]), ChannelName(key.split(":")[-2])
        self.clock.at = at(hours)
        mid = self.outbox.schedule(candidate_id=candidate_id, kind=kind, channel=channel, dedupe_key=key,
                                   recipient="someone", body_text="your link", due_at=at(hours))
        assert mid is not None
        if outcome == "suppressed":
            self.outbox.suppress(mid, "opted out")
            return
        assert self.outbox.begin_handover(mid)
        if outcome == "failed":
            self.outbox.mark_failed(mid, "550 no such user")
        else:
            self.outbox.mark_sent(mid, Receipt(f"provider-{mid}"))

    def session(self, candidate_id: int, interview_id: int, channel: str, start: float, end: float,
                status: str, turns: tuple[tuple[str, int], ...] = ()) -> None:
        """A session with interviewer turns (kind, question position), ended `status` at `end`."""
        self.clock.at = at(start)
        sid = self.sessions.start_session(candidate_id=candidate_id, interview_id=interview_id,
                                          channel=channel, recording_dir="x", settings={})
        for index, (kind, position) in enumerate(turns):
            self.sessions.add_turn(session_id=sid, index=index, speaker="interviewer", text=kind,
                                   start_s=index, end_s=index + 0.5, question_position=position,
                                   is_follow_up=kind == "follow_up", kind=kind)
        self.clock.at = at(end)
        self.sessions.end_session(session_id=sid, status=status, duration_s=(end - start) * 3600,
                                  recording_path=None)

    def completed_with_recording(self, candidate_id: int, interview_id: int, hours: float) -> None:
        """A completed session written by the shared review helper (a real recording and turns)."""
        self.clock.at = at(hours)
        store_session(self.sessions, candidate_id=candidate_id, interview_id=interview_id,
                      directory=self.directory / f"c{candidate_id}")


@pytest.fixture
def seeded(store: SessionStore, settings: Settings) -> dict[str, Any]:
    """Barista (3 questions): seven candidates in the last 30 days, one 45 days ago; one candidate
    of an interview with a formula for a title."""
    w = World(store, Path(settings.recordings_dir))
    slug, iid = w.interview("Barista", QUESTIONS)
    # A: by hand, email; invitation, reminders at 24 h and 48 h, then opens and completes at 50 h.
    a = w.add(slug, "Ana", 0, CandidateSource.MANUAL, email="ana@example.com")
    w.message(a, f"invitation:email:{a}", 0)
    w.message(a, f"reminder_not_started:24:email:{a}", 24)
    w.message(a, f"reminder_not_started:48:email:{a}", 48)
    w.opened(a, 49)
    w.completed_with_recording(a, iid, 50)
    # B: bulk, email and SMS invitations; completes in the browser 2.5 h after being added.
    b = w.add(slug, "Ben", 1, CandidateSource.BULK, email="ben@example.com", phone="+1 650 253 0000")
    w.message(b, f"invitation:email:{b}", 1)
    w.message(b, f"invitation:sms:{b}", 1)
    w.opened(b, 2)
    w.session(b, iid, "webrtc", 3, 3.5, "completed")
    # C: applied through the share link, no message; completes by phone 1 h after.
    w.clock.at = at(2)
    c = w.candidates.enrol(interview_id=iid, name="Cy", source=CandidateSource.SHARE_LINK.value).id or 0
    w.opened(c, 2)
    w.session(c, iid, "phone", 2.2, 3, "completed")
    # D: API, email; a suppressed reminder; leaves at question 2, is reminded to finish, completes.
    d = w.add(slug, "Dee", 3, CandidateSource.API, email="dee@example.com")
    w.message(d, f"invitation:email:{d}", 3)
    w.message(d, f"reminder_not_started:24:email:{d}", 3.5, outcome="suppressed")
    w.opened(d, 4)
    w.session(d, iid, "webrtc", 5, 5.2, "interrupted",
              (("greeting", 0), ("question", 0), ("answer", 0), ("question", 1)))
    w.message(d, f"reminder_unfinished:email:{d}", 7)
    w.session(d, iid, "webrtc", 8, 9, "completed")
    # E: by hand; the invitation failed, so no message reached them; nothing else.
    e = w.add(slug, "Eve", 4, CandidateSource.MANUAL, email="eve@example.com")
    w.message(e, f"invitation:email:{e}", 4, outcome="failed")
    # F: added before sources were recorded; opens, leaves during the welcome.
    w.clock.at = at(5)
    f = w.candidates.enrol(interview_id=iid, name="Fay", source="").id or 0
    w.opened(f, 6)
    w.session(f, iid, "webrtc", 6, 6.1, "interrupted", (("greeting", 0),))
    # H: by hand, email; never opens the link (called in?), fails at question 3's follow-up; a nudge.
    h = w.add(slug, "Hal", 6, CandidateSource.MANUAL, email="hal@example.com")
    w.message(h, f"invitation:email:{h}", 6)
    w.session(h, iid, "webrtc", 20, 20.5, "failed",
              (("question", 0), ("question", 1), ("question", 2), ("follow_up", 2)))
    w.message(h, f"nudge:email:{h}", 30)
    # G: 45 days ago, completed: outside the 30-day window, inside 90 days.
    g = w.add(slug, "Gus", -39 * 24, CandidateSource.MANUAL, email="gus@example.com")
    w.session(g, iid, "webrtc", -39 * 24 + 1, -39 * 24 + 2, "completed")
    # The formula-titled interview: one candidate who stopped at its only question.
    evil_slug, evil_id = w.interview(EVIL, ("Why here?",))
    z = w.add(evil_slug, "Zed", 7, CandidateSource.MANUAL, email="zed@example.com")
    w.session(z, evil_id, "webrtc", 8, 8.1, "interrupted", (("question", 0),))
    return {"slug": slug, "evil": evil_slug}


EXPECTED_SOURCES = {
    "Added by hand": {"invited": 3, "opened": 2, "started": 2, "completed": 1},
    "Bulk": {"invited": 1, "opened": 1, "started": 1, "completed": 1},
    "API": {"invited": 1, "opened": 1, "started": 1, "completed": 1},
    "Share link": {"invited": 1, "opened": 1, "started": 1, "completed": 1},
    "Unknown": {"invited": 1, "opened": 1, "started": 1, "completed": 0},
}
EXPECTED_CHANNELS = {
    "email": {"invited": 3, "opened": 3, "started": 3, "completed": 2},
    "email + sms": {"invited": 1, "opened": 1, "started": 1, "completed": 1},
    "none": {"invited": 3, "opened": 2, "started": 2, "completed": 1},
}
EXPECTED_AFTER = [("Invitation", 1), ("Reminder after 24 h", 0), ("Reminder after 48 h", 1),
                  ("Reminder to finish", 1), ("Deadline reminder", 0), ("Nudge", 0), ("No message", 1)]
EXPECTED_DROPS = [(None, "Before the first question", 1), (1, "Q2: Tell me about a busy shift.", 1),
                  (2, "Q3: When can you start?", 1)]


def test_the_funnel_of_one_interview_from_real_rows(store: SessionStore, seeded: dict[str, Any]) -> None:
    funnel = FunnelData(store.engine).funnel(seeded["slug"], NOW - timedelta(days=29, hours=12))
    assert funnel.total.as_dict() == {"invited": 7, "opened": 6, "started": 6, "completed": 4}
    assert funnel.total.completion_rate == 4 / 7
    assert {s.label: s.as_dict() for s in funnel.by_source} == EXPECTED_SOURCES
    assert [s.label for s in funnel.by_source] == list(EXPECTED_SOURCES)  # the sources' order
    assert {s.label: s.as_dict() for s in funnel.by_channel} == EXPECTED_CHANNELS
    assert {s.label: s.completion_rate for s in funnel.by_channel} == {
        "email": 2 / 3, "email + sms": 1.0, "none": 1 / 3}
    assert [(r.label, r.started, r.completed, r.rate) for r in funnel.interview_channels] == [
        ("browser", 4, 2, 0.5), ("phone", 1, 1, 1.0), ("simulated", 1, 1, 1.0)]
    assert funnel.completed_after == EXPECTED_AFTER
    # Hours from being added to the end of the first completed session: C 1, B 2.5, D 6, A 50.
    assert funnel.median_hours == (2.5 + 6) / 2 and funnel.p90_hours == 50
    assert [(d.position, d.label, d.sessions) for d in funnel.drop_off] == EXPECTED_DROPS
    assert funnel.by_interview == []  # one interview: no "by interview" rows
    everything = FunnelData(store.engine).funnel(seeded["slug"], NOW - timedelta(days=89, hours=12))
    assert everything.total.as_dict() == {"invited": 8, "opened": 7, "started": 7, "completed": 5}


def test_workspace_wide_names_the_interview(store: SessionStore, seeded: dict[str, Any]) -> None:
    funnel = FunnelData(store.engine).funnel(None, NOW - timedelta(days=30))
    assert funnel.total.as_dict() == {"invited": 8, "opened": 7, "started": 7, "completed": 4}
    assert {s.label: s.invited for s in funnel.by_interview} == {"Barista": 7, EVIL: 1}
    assert [d.label for d in funnel.drop_off] == [f"{EVIL} · Q1: Why here?"] + [  # by title: "=" < "B"
        f"Barista · {label}" for _, label, _ in EXPECTED_DROPS]


def test_the_rows_take_the_same_few_queries_however_many_candidates(
    store: SessionStore, seeded: dict[str, Any]
) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        FunnelData(store.engine).rows(None, None)
        few = len(statements)
        candidates = Candidates(store.engine, now=lambda: NOW)
        for i in range(30):
            candidates.add(slug=seeded["slug"], name=f"More {i}", email=f"more{i}@example.com")
        statements.clear()
        FunnelData(store.engine).rows(None, None)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert len(statements) == few <= 6


def test_attribution_and_percentiles_on_plain_rows() -> None:
    """The last message at or before the completed session's start wins, on any channel; a retake
    that completes again counts once; p90 is the nearest rank."""
    t0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
    hours = [t0 + timedelta(hours=n) for n in range(100)]
    candidates = [CandidateRow(i, 1, "manual", t0, None) for i in range(1, 11)]
    sessions = [SessionRow(100 + i, i, 1, "webrtc", "completed", hours[i * 2], hours[i * 2 + 1], 0)
                for i in range(1, 11)]
    sessions.append(SessionRow(200, 1, 1, "webrtc", "completed", hours[40], hours[41], 0))  # a retake
    messages = [
        MessageRow(1, "reminder_deadline", "sms", "reminder_deadline:20260105:sms:1", hours[2]),  # at start
        MessageRow(1, "nudge", "email", "nudge:email:1", hours[3]),  # after the start: not it
        MessageRow(2, "reminder_not_started", "sms", "reminder_not_started:48:sms:2", hours[1]),
        MessageRow(2, "invitation", "email", "invitation:email:2", hours[0]),
        MessageRow(3, "nudge", "email", "nudge:email:3", None),  # never sent: ignored
    ]
    funnel = compute(candidates, sessions, messages, {1: VersionRow(1, "s", "S", 1)})
    after = dict(funnel.completed_after)
    assert after["Deadline reminder"] == 1 and after["Reminder after 48 h"] == 1
    assert after["No message"] == 8 and sum(after.values()) == 10
    assert funnel.median_hours == 12  # candidate i completes 2i + 1 hours after being added: 3..21
    assert funnel.p90_hours == 19  # 9th of 10
    reminder = MessageRow(1, "reminder_not_started", "email", "reminder_not_started:24:email:1", t0)
    assert message_key(reminder) == "reminder_not_started:24"


@pytest.fixture
def client(settings: Settings, store: SessionStore, users: dict[str, int]) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store.engine, now=lambda: NOW), base_url="http://testserver") as c:
        login(c, VIEWER)
        yield c


def read_csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="funnel-')
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def stage_rows(table: list[dict[str, str]], dimension: str) -> dict[str, dict[str, int]]:
    stages = ("invited", "opened", "started", "completed")
    return {r["value"]: {s: int(r[s]) for s in stages} for r in table if r["dimension"] == dimension}


def test_the_interview_page_draws_the_funnel(client: TestClient, seeded: dict[str, Any]) -> None:
    page = client.get(f"/app/interviews/{seeded['slug']}/analytics").text
    for chart in ("chart-stages", "chart-source", "chart-channel", "chart-after", "chart-drop"):
        svg = page.split(f'id="{chart}"')[1].split("</svg>")[0]
        assert 'role="img"' in svg and f'<title id="{chart}-title">' in svg and "<path d=" in svg
    assert 'id="chart-interview"' not in page
    assert re.search(r'id="funnel-invited">7<', page) and re.search(r'id="funnel-completed">4<', page)
    assert 'id="funnel-rate">57%<' in page and 'id="funnel-p90">50.0 h<' in page
    stages = page.split('id="chart-stages"')[1].split("</svg>")[0]
    assert ">7 · 100%</text>" in stages and ">4 · 57%</text>" in stages  # the numbers as text
    drops = page.split('id="drop-off"')[1]
    assert "<td>Q2: Tell me about a busy shift.</td><td>1</td>" in drops
    assert f'href="/app/interviews/{seeded["slug"]}/analytics/funnel.csv?days=30"' in page
    week = client.get(f"/app/interviews/{seeded['slug']}/analytics?days=7").text
    assert '/analytics/funnel.csv?days=7"' in week


def test_the_csv_matches_the_numbers(client: TestClient, seeded: dict[str, Any]) -> None:
    table = read_csv(client.get(f"/app/interviews/{seeded['slug']}/analytics/funnel.csv"))
    assert list(table[0]) == ["dimension", "value", "invited", "opened", "started", "completed",
                              "completion_rate", "count", "hours"]
    assert stage_rows(table, "all") == {"All candidates": {"invited": 7, "opened": 6, "started": 6,
                                                           "completed": 4}}
    assert table[0]["completion_rate"] == f"{4 / 7:.4f}"
    assert stage_rows(table, "source") == EXPECTED_SOURCES
    assert stage_rows(table, "outreach_channel") == EXPECTED_CHANNELS
    channels = {r["value"]: (r["started"], r["completed"], r["completion_rate"])
                for r in table if r["dimension"] == "interview_channel"}
    assert channels == {"browser": ("4", "2", "0.5000"), "phone": ("1", "1", "1.0000"),
                        "simulated": ("1", "1", "1.0000")}
    after = [(r["value"], int(r["count"])) for r in table if r["dimension"] == "completed_after"]
    assert after == EXPECTED_AFTER
    assert {r["value"]: r["hours"] for r in table if r["dimension"] == "time_to_complete"} == {
        "median": "4.25", "p90": "50.00"}
    assert [(r["value"], int(r["count"])) for r in table if r["dimension"] == "drop_off"] == [
        (label, n) for _, label, n in EXPECTED_DROPS]
    longer = read_csv(client.get(f"/app/interviews/{seeded['slug']}/analytics/funnel.csv?days=90"))
    assert stage_rows(longer, "all")["All candidates"]["invited"] == 8


def test_the_workspace_csv_escapes_a_formula_title(client: TestClient, seeded: dict[str, Any]) -> None:
    page = client.get("/app/analytics").text
    assert 'id="chart-stages"' in page and 'id="chart-interview"' in page
    assert "=HYPERLINK(&#34;http://evil.example&#34;" in page  # escaped as HTML, shown as text
    table = read_csv(client.get("/app/analytics/funnel.csv?days=30"))
    assert stage_rows(table, "all")["All candidates"] == {"invited": 8, "opened": 7, "started": 7,
                                                          "completed": 4}
    assert stage_rows(table, "interview") == {
        "Barista": {"invited": 7, "opened": 6, "started": 6, "completed": 4},
        "'" + EVIL: {"invited": 1, "opened": 1, "started": 1, "completed": 0},
    }
    drops = [r["value"] for r in table if r["dimension"] == "drop_off"]
    assert drops[0] == f"'{EVIL} · Q1: Why here?"
    assert not any(v.startswith(("=", "+", "-", "@")) for r in table for v in r.values())


def test_bad_requests(client: TestClient, seeded: dict[str, Any]) -> None:
    assert client.get("/app/interviews/nope/analytics/funnel.csv").status_code == 404
    bad = client.get(f"/app/interviews/{seeded['slug']}/analytics/funnel.csv?days=3")
    assert bad.status_code == 400 and "days=" in bad.text
    assert client.get("/app/analytics/funnel.csv?days=abc").status_code == 400
    anonymous = TestClient(client.app, base_url="http://testserver")
    assert anonymous.get("/app/analytics/funnel.csv", follow_redirects=False).status_code in (302, 303, 401)
