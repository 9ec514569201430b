"""The retention sweep on a real SQLite database and real files, on a fake clock (issue 20 item 3).

Two candidates' worth of data is built at known times through the real writers: an old one finished
at T0 and a newer one 20 days later (sessions with recording files and transcripts, scores, stage
results with answers and evidence, messages sent and received), plus data retention must never
touch (a live session, a message still scheduled). The sweep runs with 30-day windows at T0 + 30 days
(nothing goes), at T0 + 30 days + 1 s (exactly the old data goes), again (nothing more), and later."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from postgres import postgres_url  # noqa: F401  (fixture)

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.types import ChannelName, MessageKind, Receipt
from milo_voice.scoring.result import ScoreCard
from milo_voice.scoring.rubric import Bands
from milo_voice.scoring.store import ScoringStore
from milo_voice.stages.types import Evidence, StageOutcome
from milo_voice.store.db import create_engine, migrate
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.pipeline import Pipeline
from milo_voice.workspace.retention import REMOVED_REASON, RetentionPolicy
from milo_voice.workspace.retention_store import RetentionSettings
from milo_voice.workspace.retention_sweep import ACTION, RetentionSweep
from milo_voice.workspace.retention_worker import RetentionWorker

T0 = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=20)
MEDIA = ("candidate.wav", "interviewer.wav", "recording.ogg", "camera-1.webm")
SAID = "I rebuilt the billing service in Rust"


class Clock:
    """The fake clock every repository of a test shares."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Person:
    candidate_id: int
    interview_id: int
    session_id: int
    folder: Path
    message_id: int
    delivery_id: int


def write_media(folder: Path, names: tuple[str, ...] = MEDIA) -> None:
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_bytes(b"\0" * 1000)


def card(at: datetime) -> ScoreCard:
    bands = Bands()
    return ScoreCard(
        scorer="offline",
        scorer_label="Offline",
        model="",
        prompt_hash="0" * 64,
        created_at=at,
        bands=bands,
        overall=80.0,
        band=bands.band(80.0),
        knockout=None,
        needs_review=False,
        review_reasons=[],
        questions=[],
    )


def person(store: SessionStore, clock: Clock, slug: str, name: str, at: datetime, root: Path) -> Person:
    """One candidate's data, all finished at `at`."""
    clock.at = at
    engine = store.engine
    candidate = Candidates(engine, now=clock).add(
        slug=slug, name=name, email=f"{name[:3].lower()}@example.com"
    )
    cid, folder = candidate.id or 0, root / f"session-{name[:3].lower()}"
    sessions = SessionStore(engine, now=clock)
    sid = sessions.start_session(
        candidate_id=cid,
        interview_id=candidate.interview_id,
        channel="webrtc",
        recording_dir=str(folder),
        settings={"asr_model": "tiny.en"},
    )
    write_media(folder)
    sessions.add_turn(
        session_id=sid,
        index=0,
        speaker="interviewer",
        text="Tell me about a project.",
        start_s=0.0,
        end_s=2.0,
        question_position=0,
        is_follow_up=False,
        kind="question",
    )
    sessions.add_turn(
        session_id=sid,
        index=1,
        speaker="candidate",
        text=f"{SAID} ({name})",
        live_text=SAID,
        start_s=3.0,
        end_s=6.0,
        question_position=0,
        is_follow_up=False,
        kind="answer",
        words=[{"w": "I", "start": 3.0, "end": 3.2}],
    )
    sessions.end_session(
        session_id=sid, status="completed", duration_s=6.0, recording_path=str(folder / "recording.ogg")
    )
    scoring = ScoringStore(engine, now=clock)
    scoring.add_score(scoring.context(sid), card(at))
    pipeline = Pipeline(engine, now=clock)
    pipeline.save_answers(cid, {"why": f"Because {name} likes Rust"})
    pipeline.record(
        cid,
        0,
        StageOutcome(
            passed=True,
            score=80.0,
            reason=f"said: {SAID}",
            evidence=(Evidence(SAID, "Q1"),),
            detail={"card": {"overall": 80}},
        ),
    )
    outbox = Outbox(engine, now=clock)
    mid = outbox.schedule(
        candidate_id=cid,
        kind=MessageKind.INVITATION,
        channel=ChannelName.EMAIL,
        dedupe_key=f"invite-{cid}",
        recipient="x@example.com",
        subject=f"Hello {name}",
        body_text=f"Dear {name}",
        body_html=f"<p>Dear {name}</p>",
        due_at=at,
    )
    assert mid is not None
    outbox.mark_sent(mid, Receipt("provider-1"))
    Contacts(engine, now=clock).record_inbound(
        candidate_id=cid,
        from_number="+14155550100",
        to_number="+1",
        body=f"Thanks, {name} here",
        keyword="",
        provider_id="",
    )
    endpoint = scoring.add_endpoint("https://ats.example.com/hook", "s3cret")
    delivery = scoring.add_delivery(endpoint.id or 0, "report.available",
                                    f'{{"name": "{name}", "overall": 80}}')
    scoring.record_attempt(delivery, status="delivered", response_status=200, error=None)
    return Person(cid, candidate.interview_id, sid, folder, mid, delivery)


@dataclass
class World:
    store: SessionStore
    clock: Clock
    old: Person
    new: Person
    live_folder: Path
    waiting_message: int
    pending_delivery: int

    def sweep(self, at: datetime) -> RetentionSweep:
        self.clock.at = at
        return RetentionSweep(
            self.store.engine, SessionStore(self.store.engine, now=self.clock), now=self.clock
        )


@pytest.fixture
def world(store: SessionStore, tmp_path: Path) -> World:
    return build_world(store, tmp_path)


def build_world(store: SessionStore, tmp_path: Path) -> World:
    clock = Clock(T0)
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Backend engineer", questions=(QuestionForm("A project?"),)))
    interviews.publish(row.slug)
    root = tmp_path / "recordings"
    old = person(store, clock, row.slug, "Olive Old", T0, root)
    clock.at = T0
    live = Candidates(store.engine, now=clock).add(slug=row.slug, name="Liam Live")
    live_folder = root / "session-live"
    SessionStore(store.engine, now=clock).start_session(
        candidate_id=live.id or 0,
        interview_id=live.interview_id,
        channel="webrtc",
        recording_dir=str(live_folder),
        settings={},
    )
    write_media(live_folder, ("candidate.wav",))
    waiting = Outbox(store.engine, now=clock).schedule(
        candidate_id=live.id or 0,
        kind=MessageKind.REMINDER_DEADLINE,
        channel=ChannelName.EMAIL,
        dedupe_key="deadline-live",
        recipient="l@example.com",
        body_text="Your deadline is near",
        due_at=T0 + timedelta(days=400),
    )
    assert waiting is not None
    scoring = ScoringStore(store.engine, now=clock)
    hook = scoring.add_endpoint("https://ats.example.com/retry", "s3cret")
    pending = scoring.add_delivery(hook.id or 0, "candidate.applied", '{"name": "Liam Live"}')
    scoring.record_attempt(pending, status="pending", response_status=503, error="HTTP 503")
    new = person(store, clock, row.slug, "Nina New", LATER, root)
    return World(store, clock, old, new, live_folder, waiting, pending)


def windows(store: SessionStore, **days: int | None) -> None:
    RetentionSettings(store.engine).save(RetentionPolicy(**days), user_id=None)


ALL_30 = {"recordings_days": 30, "transcripts_days": 30, "scores_days": 30, "messages_days": 30}


def intact(world: World, who: Person) -> None:
    """Everything of `who` is still there."""
    store = world.store
    assert sorted(p.name for p in who.folder.iterdir()) == sorted(MEDIA)
    session = store.get_session(who.session_id)
    assert session is not None and session.recording_path == str(who.folder / "recording.ogg")
    assert "retention" not in session.settings
    turns = store.turns(who.session_id)
    assert turns[1].text.startswith(SAID) and turns[1].words and turns[1].live_text == SAID
    assert len(ScoringStore(store.engine).scores(who.session_id)) == 1
    stage = Pipeline(store.engine).results([who.candidate_id])[who.candidate_id][0]
    assert stage.answers and stage.score == 80.0 and stage.evidence and stage.reason.startswith("said:")
    assert Outbox(store.engine).get(who.message_id).body_text.startswith("Dear")
    assert Contacts(store.engine).replies(who.candidate_id)[0].body.startswith("Thanks")
    delivery = ScoringStore(store.engine).delivery(who.delivery_id)
    assert delivery is not None and '"overall": 80' in delivery.body


def test_at_exactly_30_days_nothing_goes_and_one_second_later_exactly_the_old_data_goes(world: World) -> None:
    store = world.store
    windows(store, **ALL_30)
    report = world.sweep(T0 + timedelta(days=30)).run()
    assert report is not None and report.total == 0
    intact(world, world.old)

    report = world.sweep(T0 + timedelta(days=30, seconds=1)).run()
    assert report is not None
    assert report.removed == {
        "recordings": {"sessions": 1, "files": 4, "bytes": 4000},
        "transcripts": {"sessions": 1, "turns": 2, "stage_answers": 1},
        "scores": {"scores": 1, "stage_scores": 1},
        "messages": {"outreach": 1, "inbound": 1, "webhooks": 1},
    }
    old = world.old
    assert not old.folder.exists()  # every file was media: the session's folder went too
    session = store.get_session(old.session_id)
    assert session is not None and session.recording_path is None and session.status == "completed"
    assert session.settings["asr_model"] == "tiny.en"  # the rest of the record stays
    assert set(session.settings["retention"]) == {"recording", "transcript"}
    turns = store.turns(old.session_id)
    assert [(t.speaker, t.text, t.live_text, t.words, t.end_s) for t in turns] == [
        ("interviewer", "", "", [], 2.0),
        ("candidate", "", "", [], 6.0),
    ]
    assert ScoringStore(store.engine).scores(old.session_id) == []
    stage = Pipeline(store.engine).results([old.candidate_id])[old.candidate_id][0]
    assert (stage.status, stage.answers, stage.score, stage.evidence, stage.reason) == (
        "passed",
        {},
        None,
        [],
        REMOVED_REASON,
    )
    assert set(stage.detail) == {"retention"} and set(stage.detail["retention"]) == {"answers", "scores"}
    message = Outbox(store.engine).get(old.message_id)
    assert (message.subject, message.body_text, message.body_html, message.status) == ("", "", "", "sent")
    reply = Contacts(store.engine).replies(old.candidate_id)[0]
    assert reply.body == "" and reply.from_number == "+14155550100"
    delivery = ScoringStore(store.engine).delivery(old.delivery_id)
    assert delivery is not None
    assert (delivery.body, delivery.status, delivery.attempts) == ("", "delivered", 1)
    pending = ScoringStore(store.engine).delivery(world.pending_delivery)
    assert pending is not None and "Liam" in pending.body  # still to be retried: its body stays

    intact(world, world.new)  # 10 days younger: all kept
    assert (world.live_folder / "candidate.wav").exists()  # a live session never ended: never due
    assert Outbox(store.engine).get(world.waiting_message).body_text == "Your deadline is near"


def test_a_second_run_removes_nothing_more_and_the_newer_data_goes_when_its_time_comes(world: World) -> None:
    windows(world.store, **ALL_30)
    first = world.sweep(T0 + timedelta(days=31)).run()
    assert first is not None and first.total == 14
    again = world.sweep(T0 + timedelta(days=31, hours=1)).run()
    assert again is not None and again.total == 0 and again.removed["recordings"]["bytes"] == 0
    intact(world, world.new)

    later = world.sweep(LATER + timedelta(days=30, seconds=1)).run()
    assert later is not None and later.total == 14 and not world.new.folder.exists()
    assert world.sweep(LATER + timedelta(days=60)).run().total == 0  # type: ignore[union-attr]
    assert (world.live_folder / "candidate.wav").exists()
    assert Outbox(world.store.engine).get(world.waiting_message).body_text == "Your deadline is near"


def test_a_window_left_blank_keeps_its_data(world: World) -> None:
    windows(world.store, recordings_days=30)
    report = world.sweep(T0 + timedelta(days=365)).run()
    assert report is not None and list(report.removed) == ["recordings"]
    assert report.windows == {"recordings": 30, "transcripts": None, "scores": None, "messages": None}
    for who in (world.old, world.new):
        assert not who.folder.exists()
        assert world.store.turns(who.session_id)[1].text.startswith(SAID)
        assert len(ScoringStore(world.store.engine).scores(who.session_id)) == 1
        stage = Pipeline(world.store.engine).results([who.candidate_id])[who.candidate_id][0]
        assert stage.answers and stage.evidence and stage.score == 80.0
        assert Outbox(world.store.engine).get(who.message_id).body_text.startswith("Dear")
        assert Contacts(world.store.engine).replies(who.candidate_id)[0].body.startswith("Thanks")


def test_with_no_window_saved_everything_is_kept_and_no_audit_event_is_written(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="milo_voice.workspace.retention_sweep"):
        assert world.sweep(T0 + timedelta(days=3650)).run() is None
    assert [(r.getMessage(), getattr(r, "decision", "")) for r in caplog.records] == [
        ("retention.sweep", "skipped")
    ]
    assert "no window set" in caplog.records[0].reason
    intact(world, world.old)
    intact(world, world.new)
    assert Audit(world.store.engine).recent(target_type="retention") == []


def test_each_run_writes_one_audit_event_with_counts_and_no_personal_data(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    windows(world.store, **ALL_30)
    with caplog.at_level(logging.INFO, logger="milo_voice.workspace.retention_sweep"):
        world.sweep(T0 + timedelta(days=31)).run()
        world.sweep(T0 + timedelta(days=32)).run()
    events = Audit(world.store.engine).recent(target_type="retention")
    assert [e.action for e in events] == [ACTION, ACTION]
    newest, first = events
    assert first.at == T0 + timedelta(days=31) and first.actor == "anonymous" and first.detail["total"] == 14
    assert first.detail["removed"]["recordings"] == {"sessions": 1, "files": 4, "bytes": 4000}
    assert newest.detail["total"] == 0
    dumped = json.dumps([e.detail for e in events])
    for personal in ("Olive", "Nina", "Rust", "example.com", "+1415", "session-", "recording.ogg"):
        assert personal not in dumped
    assert [r.getMessage() for r in caplog.records] == ["retention.sweep", "retention.sweep"]


def test_media_outside_the_folder_and_other_files_in_it_are_handled(world: World, tmp_path: Path) -> None:
    """A final recording stored elsewhere is removed with the folder's media; a file that is not media
    stays, and so does the folder holding it."""
    elsewhere = tmp_path / "elsewhere.ogg"
    elsewhere.write_bytes(b"\0" * 10)
    store = world.store
    clock = Clock(T0)
    sessions = SessionStore(store.engine, now=clock)
    folder = tmp_path / "recordings" / "session-odd"
    sid = sessions.start_session(
        candidate_id=world.old.candidate_id,
        interview_id=world.old.interview_id,
        channel="phone",
        recording_dir=str(folder),
        settings={},
    )
    write_media(folder, ("candidate.wav", "recording.ogg.part"))
    (folder / "readme.txt").write_text("not a recording")
    sessions.end_session(session_id=sid, status="interrupted", duration_s=1.0, recording_path=str(elsewhere))
    windows(store, recordings_days=30)
    report = world.sweep(T0 + timedelta(days=31)).run()
    assert report is not None and report.removed["recordings"] == {"sessions": 2, "files": 7, "bytes": 6010}
    assert not elsewhere.exists() and sorted(p.name for p in folder.iterdir()) == ["readme.txt"]


def test_the_worker_sweeps_at_start_and_a_failed_round_does_not_stop_it(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    windows(world.store, **ALL_30)
    sweep, rounds = world.sweep(T0 + timedelta(days=31)), []

    def flaky() -> object:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("database is locked")
        return sweep.run()

    worker = RetentionWorker(flaky, interval=0.05)
    with caplog.at_level(logging.ERROR, logger="milo_voice.workspace.retention_worker"):
        worker.start()
        for _ in range(200):
            if Audit(world.store.engine).recent(target_type="retention"):
                break
            time.sleep(0.05)
        worker.stop()
    assert "retention.round_failed" in caplog.text and "database is locked" in caplog.text
    assert len(rounds) >= 2 and not world.old.folder.exists()
    assert worker.run_once() is True  # the next round goes through


def test_messages_and_replies_keep_their_rows(world: World) -> None:
    """Retention empties text; it does not delete messages or replies (statuses and the STOP record stay)."""
    windows(world.store, messages_days=30)
    world.sweep(T0 + timedelta(days=400)).run()
    outbox, contacts = Outbox(world.store.engine), Contacts(world.store.engine)
    for who in (world.old, world.new):
        assert [(m.status, m.body_text, m.recipient) for m in outbox.history(who.candidate_id)] == [
            ("sent", "", "x@example.com")
        ]
        assert [(r.body, r.from_number) for r in contacts.replies(who.candidate_id)] == [("", "+14155550100")]
    assert outbox.get(world.waiting_message).status == "scheduled"


@pytest.mark.postgres
def test_the_same_sweep_on_postgresql(postgres_url: str, tmp_path: Path) -> None:  # noqa: F811
    migrate(postgres_url)
    engine = create_engine(postgres_url)
    try:
        world = build_world(SessionStore(engine), tmp_path)
        windows(world.store, **ALL_30)
        assert world.sweep(T0 + timedelta(days=30)).run().total == 0  # type: ignore[union-attr]
        report = world.sweep(T0 + timedelta(days=30, seconds=1)).run()
        assert report is not None and report.total == 14 and report.errors == ()
        assert not world.old.folder.exists()
        intact(world, world.new)
        assert world.sweep(T0 + timedelta(days=30, seconds=2)).run().total == 0  # type: ignore[union-attr]
    finally:
        engine.dispose()
