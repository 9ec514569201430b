"""Ingesting reviewed rows invites the candidates through the outreach rules (issue 17): over real
SMTP (aiosmtpd on loopback), one invitation per ingested candidate with their own link; a discarded
row and a row still in review get nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from fakes.smtp_server import FakeSmtpServer

from milo_voice.calls.session_store import SessionStore
from milo_voice.intake.batches import IntakeBatches, NewItem
from milo_voice.outreach.compose import worker_from
from milo_voice.scoring.job_table import JobTable
from milo_voice.scoring.jobs import LocalQueue
from milo_voice.settings import Settings
from milo_voice.workspace.accounts import Accounts, Principal
from milo_voice.workspace.candidates import CandidateQuery, Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.intake import Intake
from milo_voice.workspace.interviews import Interviews

NOON_LA = datetime(2026, 12, 8, 20, 0, tzinfo=UTC)  # a Tuesday, 12:00 in Los Angeles


def test_ingested_rows_are_invited_and_the_others_are_not(settings: Settings, store: SessionStore) -> None:
    admin = Accounts(store.engine).create_user(email="ada@example.com", password="pw-123456789", role="admin")
    who = Principal(admin.id or 0, admin.email, admin.role)  # type: ignore[arg-type]
    interviews = Interviews(store.engine, now=lambda: NOON_LA)
    slug = interviews.create(InterviewForm(title="Picker", questions=(QuestionForm("Why?"),))).slug
    interviews.publish(slug)
    intake = Intake(store.engine, LocalQueue(JobTable(store.engine)), root=settings.uploads_dir, region="US",
                    now=lambda: NOON_LA)
    batches = IntakeBatches(store.engine, now=lambda: NOON_LA)
    batch = batches.create(slug, "csv", ["list.csv"], user_id=who.user_id)
    ids = batches.add_items(batch, [NewItem("list.csv, line 2", name="Ana Lima", email="ana@example.com"),
                                    NewItem("list.csv, line 3", name="Bo Chen", email="bo@example.com"),
                                    NewItem("list.csv, line 4", name="Cy Dee", email="cy@example.com"),
                                    NewItem("list.csv, line 5", name="Di Eve", email="di@example.com")],
                            progress=4)
    batches.finish(batch)
    intake.discard(batch, [ids[2]], who)
    done = intake.ingest(batch, ids[:2], who)
    assert len(done.added) == 2 and not done.refused
    with FakeSmtpServer() as smtp:
        live = replace(settings, public_url="http://jobs.acme.test", smtp_host="127.0.0.1",
                       smtp_port=smtp.port, smtp_security="none", smtp_from="jobs@acme.test",
                       company_name="Acme", company_time_zone="America/Los_Angeles")  # noon: not quiet hours
        worker = worker_from(live, store.engine)
        assert worker is not None
        worker.outbox.now = lambda: NOON_LA
        assert worker.run_once().sent == 2
        tokens = {r.candidate.email: r.candidate.token for r in
                  Candidates(store.engine).search(CandidateQuery(slug=slug))}
        sent = {m.email["To"]: m.email.get_body(("plain",)).get_content() for m in smtp.received}
    assert set(sent) == {"ana@example.com", "bo@example.com"} == set(tokens)
    for address, body in sent.items():
        assert f"http://jobs.acme.test/i/{tokens[address]}" in body
