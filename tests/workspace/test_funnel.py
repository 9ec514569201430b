"""The outreach funnel (issue 16): stage counts by source and channel, the message before each
completion, time to complete, drop-off by question; over real rows, on the analytics pages, as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.types import ChannelName, MessageKind, Receipt
from milo_voice.store.tables import CandidateSource
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.funnel import CandidateRow, FunnelData, MessageRow, SessionRow, compute
from milo_voice.workspace.interviews import Interviews

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_stages_sources_channels_attribution_time_and_drop_off() -> None:
    candidates = [
        CandidateRow(1, "manual", T0, h(1)),         # email, opened, completed after the 24 h reminder
        CandidateRow(2, "manual", T0, h(2)),         # email + sms, opened, started, left at question 2
        CandidateRow(3, "share_link", T0, None),     # no message, phoned in and completed
        CandidateRow(4, "api", T0, None),            # sms, nothing
        CandidateRow(5, "", T0, h(3)),               # before sources: unknown; opened only
    ]
    sessions = [
        SessionRow(10, 1, "webrtc", "completed", h(30), h(30.5), 2),
        SessionRow(11, 2, "webrtc", "interrupted", h(5), h(5.2), 1),
        SessionRow(12, 3, "phone", "completed", h(1), h(1.5), 2),
        SessionRow(13, 99, "webrtc", "completed", h(1), h(2), 2),  # not in the cohort: ignored
    ]
    messages = [
        MessageRow(1, "invitation", "email", "invitation:email:1", T0),
        MessageRow(1, "reminder_not_started", "email", "reminder_not_started:24:email:1", h(24)),
        MessageRow(1, "reminder_not_started", "email", "reminder_not_started:48:email:1", h(48)),  # after
        MessageRow(2, "invitation", "email", "invitation:email:2", T0),
        MessageRow(2, "invitation", "sms", "invitation:sms:2", T0),
        MessageRow(4, "invitation", "sms", "invitation:sms:4", T0),
    ]
    funnel = compute(candidates, sessions, messages, {0: "Why us?", 1: "Tell me about a shift", 2: "When?"})
    assert funnel.total.as_dict() == {"invited": 5, "opened": 4, "started": 3, "completed": 2}
    assert funnel.total.completion_rate == 0.4
    sources = {s.label: s.as_dict() for s in funnel.by_source}
    assert sources["Added by hand"] == {"invited": 2, "opened": 2, "started": 2, "completed": 1}
    assert sources["Share link"]["completed"] == 1 and sources["Unknown"]["opened"] == 1
    channels = {s.label: s.as_dict() for s in funnel.by_channel}
    assert channels == {
        "email": {"invited": 1, "opened": 1, "started": 1, "completed": 1},
        "sms": {"invited": 1, "opened": 0, "started": 0, "completed": 0},
        "email + sms": {"invited": 1, "opened": 1, "started": 1, "completed": 0},
        "none": {"invited": 2, "opened": 2, "started": 1, "completed": 1},
    }
    assert [(r.label, r.started, r.completed) for r in funnel.interview_channels] == [
        ("browser", 2, 1), ("phone", 1, 1)]
    assert funnel.completed_after == [("Reminder after 24 h", 1), ("No message", 1)]
    assert funnel.median_hours == (30.5 + 1.5) / 2 and funnel.p90_hours == 30.5
    drops = [(d.position, d.question, d.sessions) for d in funnel.drop_off]
    assert drops == [(1, "Tell me about a shift", 1)]


def test_the_analytics_pages_draw_the_funnel_and_the_csv_matches(
    admin: TestClient, store: SessionStore
) -> None:
    interviews = Interviews(store.engine)
    form = InterviewForm(title="Barista", questions=(QuestionForm("Why coffee?"),))
    row = interviews.create(form)
    slug = interviews.publish(row.slug).slug
    now = datetime.now(UTC)
    candidates = Candidates(store.engine, now=lambda: now - timedelta(hours=2))
    ana = candidates.add(slug=slug, name="Ana", email="ana@example.com", source=CandidateSource.API)
    ben = candidates.add(slug=slug, name="Ben", email="ben@example.com")
    candidates.mark_opened(ana.id or 0)
    outbox = Outbox(store.engine, now=lambda: now - timedelta(hours=2))
    mid = outbox.schedule(
        candidate_id=ana.id or 0, kind=MessageKind.INVITATION, channel=ChannelName.EMAIL,
        dedupe_key="invitation:email:x", recipient="ana@example.com", body_text="link",
        due_at=now - timedelta(hours=2))
    assert mid is not None and outbox.begin_handover(mid)
    outbox.mark_sent(mid, Receipt("<milo-1@x>"))
    version = interviews.latest(slug)
    sid = store.start_session(candidate_id=ana.id or 0, interview_id=version.id or 0, channel="webrtc",
                              recording_dir="/tmp/none", settings={})
    store.end_session(session_id=sid, status="completed", duration_s=60.0, recording_path=None)
    rows = FunnelData(store.engine).rows(slug, now - timedelta(days=30))
    assert compute(*rows).total.as_dict() == {"invited": 2, "opened": 1, "started": 1, "completed": 1}
    assert ben.id is not None

    page = admin.get(f"/app/interviews/{slug}/analytics")
    assert page.status_code == 200
    for chart in ("chart-stages", "chart-source", "chart-channel", "chart-after"):
        assert f'id="{chart}"' in page.text
    assert 'id="funnel-invited">2<' in page.text and 'id="funnel-completed">1<' in page.text
    got = admin.get(f"/app/interviews/{slug}/analytics/funnel.csv?days=30")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(got.text)))
    stages = next(r for r in table if r["section"] == "stages")
    assert (stages["invited"], stages["opened"], stages["started"], stages["completed"], stages["rate"]) == (
        "2", "1", "1", "1", "0.5000")
    assert {r["group"] for r in table if r["section"] == "source"} == {"API", "Added by hand"}
    assert [r["count"] for r in table if r["section"] == "completed_after"] == ["1"]
    everyone = admin.get("/app/analytics/funnel.csv?days=30")
    totals = next(r for r in csv.DictReader(io.StringIO(everyone.text)) if r["section"] == "stages")
    assert totals["invited"] == "2"
    assert 'id="chart-stages"' in admin.get("/app/analytics").text
    assert admin.get("/app/interviews/nope/analytics/funnel.csv").status_code == 404
    assert admin.get(f"/app/interviews/{slug}/analytics/funnel.csv?days=3").status_code == 400


def test_a_formula_looking_group_is_made_inert_in_the_csv() -> None:
    from milo_voice.workspace.funnel import DropOff, Funnel, Stages
    from milo_voice.workspace.funnel_csv import funnel_csv

    text = funnel_csv(Funnel(Stages("All"), drop_off=[DropOff(0, "=HYPERLINK(\"http://x\")", 2)]))
    drop = next(r for r in csv.DictReader(io.StringIO(text)) if r["section"] == "drop_off")
    assert drop["group"] == "'=HYPERLINK(\"http://x\")" and drop["count"] == "2"
