"""A candidate with everything the product can hold about someone, written through the real writers
(and, for the tables whose writer is not built yet, as rows), with real files on disk: for the
erasure and data-download tests.

`World.build` makes one: a recorded session (real Ogg from the real Recorder, a video file beside it),
turns with a personal follow-up, timing events, a score quoting the answer, a scoring job, a webhook
delivery naming them, a report link, an invitation email with its events, an SMS reply matched by
phone, contact preferences, a phone access code and a call, an intake batch (original upload, the
extracted document, the item) and the resume, a form stage with answers and an uploaded file, notes,
ratings, self-identification, a consent record, an accommodation, audit events, a pending erasure
request and an ATS order; and the TTS cache files of a personal line and of a fixed line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from milo_voice.calls.phone.numbers import PhoneStore
from milo_voice.calls.session_store import SessionStore
from milo_voice.calls.speech_cache import SpeechFiles, engine_ids
from milo_voice.dialogue.speaker import clauses
from milo_voice.intake.batches import IntakeBatches, NewItem
from milo_voice.intake.resumes import Resumes
from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.types import ChannelName, MessageKind, Receipt
from milo_voice.scoring.quotes import Quote
from milo_voice.scoring.result import CriterionResult, QuestionResult, ScoreCard
from milo_voice.scoring.rubric import Bands, CriterionKind
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Settings
from milo_voice.store.tables import (
    Accommodation,
    AtsOrder,
    CandidateStage,
    ConsentRecord,
    Job,
    PhoneCall,
    ScoreRecord,
    Table,
    UserRole,
)
from milo_voice.workspace.accounts import Principal
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidate_feedback import CandidateFeedback
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.demo import DEMO_SLUG, Demo
from milo_voice.workspace.erasure_requests import ErasureRequests
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.self_identification import SelfIdentifications
from workspace.sessions import store_session

FOLLOW_UP = "You mentioned {first}'s bakery in Leeds: what did you learn?"
"""An interviewer line a planner wrote about this candidate: its TTS audio is personal."""


@dataclass
class Person:
    name: str
    email: str
    phone: str

    @property
    def first(self) -> str:
        return self.name.split()[0]


ZELDA = Person("Zelda Quorn", "zelda.quorn@example.org", "+14155550123")
OTTO = Person("Otto Brandvik", "otto.brandvik@example.net", "+14155550199")


def score_card(person: Person, session_id: int) -> ScoreCard:
    """A scored run quoting the candidate's answer, with a rationale that names them."""
    quote = Quote(text="soup & bread", turn_index=2, start_s=8.0, end_s=9.5)
    criterion = CriterionResult(
        criterion_id="c1",
        name="Specific example",
        kind=CriterionKind.SCORED,
        weight=1.0,
        score=4,
        passed=None,
        rationale=f"{person.first} names a dish.",
        quotes=[quote],
    )
    question = QuestionResult(
        position=0,
        question="What is your favourite recipe?",
        rubric_version=1,
        answered=True,
        criteria=[criterion],
    )
    return ScoreCard(
        scorer="offline",
        scorer_label="Offline scorer",
        model="",
        prompt_hash="b" * 64,
        created_at=datetime.now(UTC),
        bands=Bands(),
        overall=72.0,
        band="good",
        knockout=None,
        needs_review=False,
        review_reasons=[],
        questions=[question],
    )


def speech_files(settings: Settings) -> SpeechFiles:
    return SpeechFiles(settings.models_dir / "tts-cache", engine_ids())


@dataclass
class World:
    candidate_id: int
    interview_id: int
    session_id: int
    token: str
    person: Person
    recording: Path
    session_dir: Path
    files: list[Path]
    """Every file of this candidate on disk (recording folder contents, uploads, TTS cache)."""
    fixed_tts: Path
    """A cached fixed line (the interview's first question): shared, must survive an erasure."""

    @classmethod
    def build(cls, store: SessionStore, settings: Settings, person: Person, admin_id: int) -> World:
        engine = store.engine
        interview_id, _ = Demo(engine).seed()
        candidate = Candidates(engine).add(
            slug=DEMO_SLUG, name=person.name, email=person.email, phone=person.phone
        )
        cid = candidate.id
        assert cid is not None
        folder = settings.recordings_dir / f"session-{cid:04d}"
        sid = store_session(store, candidate_id=cid, interview_id=interview_id, directory=folder)
        store.add_turn(
            session_id=sid,
            index=4,
            speaker="interviewer",
            text=FOLLOW_UP.format(first=person.first),
            start_s=12.0,
            end_s=14.0,
            question_position=0,
            is_follow_up=True,
            kind="follow_up",
        )
        (folder / "video.webm").write_bytes(b"\x1aE\xdf\xa3 a webm of " + person.name.encode())
        found = store.get_session(sid)
        recording = Path(found.recording_path or "") if found else Path()
        world = cls(cid, interview_id, sid, candidate.token, person, recording, folder, [], Path())
        world._talk(store, settings, admin_id)
        world._intake(store, settings, admin_id)
        world._rows(store, settings, admin_id)
        world._speech(store, settings)
        world.files = sorted(p for p in folder.rglob("*") if p.is_file()) + world.files
        return world

    def _talk(self, store: SessionStore, settings: Settings, admin_id: int) -> None:
        engine, cid, p = store.engine, self.candidate_id, self.person
        outbox = Outbox(engine)
        mid = outbox.schedule(
            candidate_id=cid,
            kind=MessageKind.INVITATION,
            channel=ChannelName.EMAIL,
            dedupe_key=f"invite-{cid}",
            recipient=p.email,
            subject=f"{p.first}, your interview",
            body_text=f"Hello {p.name}, please take the interview.",
            due_at=outbox.now(),
        )
        assert mid is not None and outbox.begin_handover(mid)
        outbox.mark_sent(mid, Receipt(provider_id=f"<milo-{mid}@example>"))
        contacts = Contacts(engine)
        contacts.opt_out(cid, ChannelName.SMS)
        contacts.record_inbound(
            candidate_id=None,
            from_number=p.phone,
            to_number="+14155550000",
            body=f"This is {p.name}, running late",
            keyword="",
            provider_id=f"SM{cid}",
        )
        phones = PhoneStore(engine)
        phones.access_code(cid)
        scoring = ScoringStore(engine)
        scoring.report_token(session_id=self.session_id)
        endpoint = scoring.add_endpoint("https://hooks.example.com/milo", "whsec_test")
        body = json.dumps(
            {
                "event": "report.available",
                "created_at": "2026-01-01T00:00:00+00:00",
                "data": {"candidate_id": cid, "candidate_name": p.name, "session_id": self.session_id},
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        delivery = scoring.add_delivery(endpoint.id or 0, "report.available", body)
        with Session(engine) as session, session.begin():
            session.add(Job(kind="webhook", payload={"delivery_id": delivery}))
            session.add(Job(kind="score", payload={"session_id": self.session_id}))
            session.add(
                PhoneCall(
                    direction="inbound",
                    from_number=p.phone,
                    to_number="+14155550000",
                    interview_id=self.interview_id,
                    candidate_id=cid,
                    session_id=self.session_id,
                    ticket_hash=f"{cid:064d}",
                    call_sid=f"CA{cid:032d}",
                )
            )

    def _intake(self, store: SessionStore, settings: Settings, admin_id: int) -> None:
        engine, cid, p = store.engine, self.candidate_id, self.person
        batches = IntakeBatches(engine)
        batch = batches.create(DEMO_SLUG, "files", [f"{p.name.replace(' ', '_')}_CV.pdf"], user_id=admin_id)
        original = settings.uploads_dir / "batches" / str(batch) / "incoming" / "0000.pdf"
        doc = settings.uploads_dir / "batches" / str(batch) / "docs" / "00000.pdf"
        for path in (original, doc):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"%PDF-1.4 resume of " + p.name.encode())
        relative = doc.relative_to(settings.uploads_dir).as_posix()
        (item,) = batches.add_items(
            batch,
            [
                NewItem(
                    source=f"{p.name}_CV.pdf",
                    name=p.name,
                    email=p.email,
                    phone=p.phone,
                    file_path=relative,
                    text=f"{p.name}\n{p.email}\nBaker",
                )
            ],
            progress=1,
        )
        batches.finish(batch)
        batches.mark_ingested(batch, item, cid)
        Resumes(engine).attach(
            cid, filename=f"{p.name}_CV.pdf", path=relative, size=doc.stat().st_size, text=f"{p.name}\nBaker"
        )
        upload = settings.uploads_dir / "stage_files" / str(cid) / "1" / "portfolio.txt"
        upload.parent.mkdir(parents=True, exist_ok=True)
        upload.write_text(f"Portfolio of {p.name}")
        self.files += [original, doc, upload]

    def _rows(self, store: SessionStore, settings: Settings, admin_id: int) -> None:
        engine, cid, p = store.engine, self.candidate_id, self.person
        feedback = CandidateFeedback(engine)
        feedback.add_note(cid, admin_id, f"Met {p.name} at the fair; call {p.phone}")
        feedback.rate(cid, admin_id, stars=4, thumb=1)
        SelfIdentifications(engine).record(cid, sex="female", race_ethnicity="white")
        with Session(engine) as session, session.begin():
            session.add(
                ConsentRecord(
                    candidate_id=cid,
                    notice_version=1,
                    notice_sha256="a" * 64,
                    channel="web",
                    address="203.0.113.9",
                    user_agent="Mozilla/5.0 test",
                )
            )
            session.add(
                Accommodation(
                    candidate_id=cid,
                    request_text=f"{p.first} needs extra time",
                    status="requested",
                    patience_multiplier=1.5,
                )
            )
            session.add(
                CandidateStage(
                    candidate_id=cid,
                    position=1,
                    kind="form",
                    status="passed",
                    score=80.0,
                    reason=f"{p.first} answered well",
                    answers={"why": f"I am {p.name} and I love bread", "file": "portfolio.txt"},
                )
            )
            session.add(
                ScoreRecord(
                    session_id=self.session_id,
                    candidate_id=cid,
                    scorer="offline",
                    prompt_hash="b" * 64,
                    overall=72.0,
                    band="good",
                    card=score_card(p, self.session_id).model_dump(mode="json"),
                )
            )
            session.add(
                AtsOrder(
                    provider="greenhouse",
                    external_ref=f"app-{cid}",
                    partner_id=f"p-{cid}",
                    candidate_id=cid,
                    callback_url=f"https://ats.example.com/{p.email}",
                )
            )
        admin = Principal(admin_id, "admin@example.com", UserRole.ADMIN)
        audit = Audit(engine)
        audit.record(
            admin, "stage.override", "candidate", cid, stage=2, reason=f"{p.first} deserves a chance"
        )
        audit.record(admin, "download", "report", self.session_id, candidate=cid, format="pdf")
        audit.record(admin, "call", "candidate", cid, phone=p.phone)
        ErasureRequests(engine).open(cid)

    def _speech(self, store: SessionStore, settings: Settings) -> None:
        speech = speech_files(settings)
        personal = speech(clauses(FOLLOW_UP.format(first=self.person.first)))
        first_question = Interviews(store.engine).script(self.interview_id).questions[0].text
        (self.fixed_tts,) = speech(clauses(first_question)[:1])[-1:]
        for path in [*personal, self.fixed_tts]:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"RIFF fake wav")
        self.files += personal


def all_rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as connection:
        return {
            t.name: [dict(r) for r in connection.execute(select(t)).mappings()]
            for t in Table.metadata.sorted_tables
        }


def mentions(engine: Engine, person: Person) -> list[str]:
    """Every value of every table that names the person (name, email, or phone digits)."""
    squash = lambda text: re.sub(r"[\W_]+", "", text.casefold())  # noqa: E731
    needles = [squash(person.name), squash(person.email)]
    digits = re.sub(r"\D", "", person.phone)
    found = []
    for table, rows in all_rows(engine).items():
        for row in rows:
            for column, value in row.items():
                text = value if isinstance(value, str) else json.dumps(value, default=str)
                if any(n in squash(text) for n in needles) or digits in re.sub(r"\D", "", text):
                    found.append(f"{table}.{column} (row {row.get('id', '?')}): {text[:80]}")
    return found


def references(engine: Engine, candidate_id: int, session_ids: set[int]) -> list[str]:
    """Columns still pointing at the candidate or their sessions (by name or by foreign key), and job
    payloads naming them. The tombstone's former id and audit events' targets are ids kept on purpose."""
    found = []
    rows = all_rows(engine)
    for table in Table.metadata.sorted_tables:
        for column in table.columns:
            targets = {fk.target_fullname for fk in column.foreign_keys}
            by_candidate = column.name == "candidate_id" or "candidate.id" in targets
            by_session = "interview_session.id" in targets
            for row in rows[table.name]:
                value = row[column.name]
                if (by_candidate and value == candidate_id) or (by_session and value in session_ids):
                    found.append(f"{table.name}.{column.name}={value}")
    for job in rows["job"]:
        if (
            job["payload"].get("session_id") in session_ids
            or job["payload"].get("candidate_id") == candidate_id
        ):
            found.append(f"job {job['id']}: {job['payload']}")
    found += [f"candidate {r['id']}" for r in rows["candidate"] if r["id"] == candidate_id]
    return found
