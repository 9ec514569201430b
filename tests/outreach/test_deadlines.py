"""Deadlines (issue 16): the interview's default, a candidate's own, a friendly closed page after
it, an extension that reopens the link, and the funnel's "opened" mark and Last engaged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.settings_store import InterviewSettings, OutreachSettingsStore
from milo_voice.settings import Settings
from milo_voice.store.repo import Invalid
from milo_voice.store.tables import CandidateSource
from milo_voice.web.app import create_app
from milo_voice.workspace import attempts
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews

ADDED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def slug(store: SessionStore) -> str:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Barista", questions=(QuestionForm("Why coffee?"),)))
    interviews.publish(row.slug)
    return row.slug


def test_the_link_closes_at_the_interviews_deadline_and_an_extension_reopens_it(
    store: SessionStore, slug: str
) -> None:
    clock = Clock(ADDED)
    candidates = Candidates(store.engine, now=clock)
    robin = candidates.add(slug=slug, name="Robin Reader", email="robin@example.com")
    assert robin.source == CandidateSource.MANUAL
    assert candidates.deadline(robin.id or 0) == ADDED + timedelta(days=7)
    clock.at = ADDED + timedelta(days=7)
    assert candidates.link_state(robin.id or 0) == attempts.LinkState(False, "deadline")
    OutreachSettingsStore(store.engine).save_interview(slug, InterviewSettings(deadline_days=10))
    assert candidates.link_state(robin.id or 0).open  # the interview's deadline moved
    clock.at = ADDED + timedelta(days=12)
    assert not candidates.link_state(robin.id or 0).open
    new = candidates.extend_deadline(robin.id or 0, 3)
    assert new == clock.at + timedelta(days=3)  # counted from now: it had passed
    assert candidates.link_state(robin.id or 0).open
    assert candidates.extend_deadline(robin.id or 0, 2) == new + timedelta(days=2)  # not passed: from it
    with pytest.raises(Invalid, match="1 to 90 days"):
        candidates.extend_deadline(robin.id or 0, 0)


def test_a_finished_candidate_sees_that_page_not_the_deadline() -> None:
    assert attempts.link_state("completed", 1, 1, past_deadline=True).reason == "completed"
    assert attempts.link_state("ended_early", 1, 2, past_deadline=True).reason == "deadline"
    assert attempts.link_state("shortlisted", 1, 1, past_deadline=True).reason == "decided"
    assert attempts.link_state("invited", 0, 1, past_deadline=True).reason == "deadline"


def test_the_closed_page_is_friendly_and_opening_the_link_is_recorded(
    settings: Settings, store: SessionStore, slug: str
) -> None:
    candidates = Candidates(store.engine)
    fresh = candidates.add(slug=slug, name="Sam Lee", email="sam@example.com")
    late = Candidates(store.engine, now=lambda: datetime.now(UTC) - timedelta(days=8)).add(
        slug=slug, name="Kim Late", email="kim@example.com")
    client = TestClient(create_app(settings, store.engine))
    closed = client.get(f"/i/{late.token}")
    assert closed.status_code == 200 and "deadline for this interview has passed" in closed.text
    assert "extend it" in closed.text
    assert candidates.get(late.id or 0)[0].opened_at is None  # a closed page is not an open
    assert client.get(f"/i/{fresh.token}").status_code == 200
    first = candidates.get(fresh.id or 0)[0].opened_at
    assert first is not None and Contacts(store.engine).get(fresh.id or 0).last_engaged_at is not None
    client.get(f"/i/{fresh.token}")
    assert candidates.get(fresh.id or 0)[0].opened_at == first  # the first open is kept
