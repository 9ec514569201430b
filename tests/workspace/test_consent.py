"""The notice and consent repository (issue 20 item 2, `workspace/consent.py`): versions, the built-in
text frozen on first use, consents refused for a stale version, and the SMS interview's consent."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from milo_voice.calls.session_store import SessionStore
from milo_voice.scoring.consent_data import ConsentReader
from milo_voice.settings import Settings
from milo_voice.stages.types import SmsQuestion, SmsSpec, StageSpec
from milo_voice.store.repo import Invalid
from milo_voice.store.tables import ConsentChannel, ConsentRecord, PrivacyNotice, StageKind
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.consent import (
    DEFAULT_NOTICE,
    MAX_NOTICE_CHARS,
    Consents,
    Notice,
    Notices,
    StaleNotice,
    sha256_of,
    sms_notice,
    spoken_notice,
)
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.pipeline import Pipeline
from milo_voice.workspace.sms_stage import SmsStages

BASE = "https://jobs.example.com"


@pytest.fixture
def candidate_id(store: SessionStore) -> int:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Barista", questions=(QuestionForm("Why coffee?"),)))
    interviews.publish(row.slug)
    return Candidates(store.engine).add(slug=row.slug, name="Ana Lima").id or 0


def rows(store: SessionStore) -> list[ConsentRecord]:
    with Session(store.engine) as session:
        return list(session.exec(select(ConsentRecord)))


def test_the_built_in_notice_is_version_0_and_says_what_a_candidate_must_know(store: SessionStore) -> None:
    notice = Notices(store.engine).current(BASE)
    assert (notice.version, notice.built_in) == (0, True)
    text = notice.text
    for must in ("An AI conducts this interview", "recorded and transcribed", "scored automatically",
                 "a person reviews them", "What we keep, and for how long", "a copy of your data",
                 "deleted", "accommodation", f"{BASE}/notice"):
        assert must in text, must
    assert notice.sha256 == sha256_of(text) and len(notice.sha256) == 64
    assert notice.paragraphs[0] == "How this interview works and how your data is used"
    assert "{notice_url}" in DEFAULT_NOTICE and "{" not in text
    assert spoken_notice(BASE).count("jobs.example.com slash notice") == 1
    assert sms_notice(BASE, 3).endswith(f"{BASE}/notice?version=3. Replying means you agree.")


def test_saving_adds_versions_newest_shown_and_history_kept(store: SessionStore) -> None:
    admin = Accounts(store.engine).create_user(email="ada@example.com", password="correct horse battery",
                                               role="admin")
    notices = Notices(store.engine)
    first = notices.save("Version one.\r\n\r\nAn AI asks the questions.   \r\n", admin.id, BASE)
    assert first.version == 1 and first.text == "Version one.\n\nAn AI asks the questions."  # cleaned
    second = notices.save("Version two.", admin.id, BASE)
    assert second.version == 2
    assert notices.current(BASE).text == "Version two."
    history = notices.history(BASE)
    assert [(n.version, n.created_by, n.built_in) for n in history] == [
        (2, "ada@example.com", False), (1, "ada@example.com", False), (0, "", True)]
    assert notices.get(1, BASE) == first and notices.get(7, BASE) is None
    assert notices.get(0, BASE) is not None and notices.get(0, BASE).built_in  # type: ignore[union-attr]
    for bad, message in (("Version two.", "current notice already"), ("  \n ", "cannot be empty"),
                         ("x" * (MAX_NOTICE_CHARS + 1), "at most")):
        with pytest.raises(Invalid, match=message):
            notices.save(bad, admin.id, BASE)
    assert notices.current(BASE).version == 2


def test_a_consent_stores_version_hash_channel_address_and_browser_and_is_logged(
    store: SessionStore, candidate_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="milo_voice.workspace.consent")
    consents = Consents(store.engine, now=lambda: datetime(2026, 12, 8, 9, 0, tzinfo=UTC))
    notice = Notices(store.engine).current(BASE)
    row = consents.record_consent(candidate_id, ConsentChannel.WEB, "203.0.113.7", "Mozilla/5.0 " + "x" * 400,
                                  notice)
    assert (row.notice_version, row.notice_sha256, row.channel, row.address) == (
        0, notice.sha256, "web", "203.0.113.7")
    assert len(row.user_agent) == 300 and row.consented_at == datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    [logged] = [r for r in caplog.records if r.getMessage() == "consent.recorded"]
    assert (logged.channel, logged.notice_version) == ("web", 0)  # type: ignore[attr-defined]
    assert "ticked the consent box" in logged.reason  # type: ignore[attr-defined]
    assert "203.0.113.7" not in caplog.text  # addresses are personal data: not logged
    assert consents.has_agreed(candidate_id, 0) and consents.has_agreed(candidate_id)
    assert not consents.has_agreed(candidate_id, 1)
    assert [c.id for c in consents.consents_of(candidate_id)] == [row.id]


def test_the_built_in_text_is_frozen_when_first_agreed_to(store: SessionStore, candidate_id: int) -> None:
    shown = Notices(store.engine).current(BASE)
    Consents(store.engine).record_consent(candidate_id, ConsentChannel.FORM, "198.51.100.2", "", shown)
    with Session(store.engine) as session:
        [frozen] = session.exec(select(PrivacyNotice)).all()
    assert (frozen.version, frozen.text) == (0, shown.text)
    # a later release (or another public URL) changes the built-in text: version 0 keeps what was shown
    later = Notices(store.engine).current("https://elsewhere.example.org")
    assert later.text == shown.text and not later.built_in
    exported = ConsentReader(store.engine).consent_of(candidate_id).to_json()
    assert exported["consents"][0]["text_matches"] is True
    assert exported["notices"] == [{"version": 0, "sha256": shown.sha256,
                                    "in_force_from": frozen.created_at.isoformat(), "text": shown.text}]


def test_a_consent_to_a_version_that_is_no_longer_current_is_refused_and_not_stored(
    store: SessionStore, candidate_id: int
) -> None:
    notices, consents = Notices(store.engine), Consents(store.engine)
    seen = notices.current(BASE)  # the page was loaded with version 0
    newer = notices.save("Version one: an AI asks the questions.", None, BASE)
    with pytest.raises(StaleNotice) as refused:
        consents.record_consent(candidate_id, ConsentChannel.WEB, "203.0.113.7", "", seen)
    assert (refused.value.agreed, refused.value.current) == (0, 1)
    with pytest.raises(StaleNotice):  # a version never shown, or a text the version does not hold
        consents.record_consent(candidate_id, ConsentChannel.WEB, "", "", Notice(5, "made up"))
    with pytest.raises(StaleNotice):
        consents.record_consent(candidate_id, ConsentChannel.WEB, "", "", Notice(1, "another text"))
    assert rows(store) == []
    consents.record_consent(candidate_id, ConsentChannel.WEB, "203.0.113.7", "", newer)
    # the SMS link named its version: the reply agrees to that one even after a newer one was saved
    consents.record_consent(candidate_id, ConsentChannel.SMS, "+14155550100", "", seen, require_current=False)
    agreed = [(r.notice_version, r.channel) for r in consents.consents_of(candidate_id)]
    assert agreed == [(1, "web"), (0, "sms")]


def test_the_sms_interview_links_the_notice_version_and_the_first_reply_is_the_consent(
    settings: Settings, store: SessionStore
) -> None:
    interviews = Interviews(store.engine)
    spec = SmsSpec(questions=(SmsQuestion(text="Which shifts can you work?", max_follow_ups=0),
                              SmsQuestion(text="When could you start?", max_follow_ups=0)))
    row = interviews.create(InterviewForm(title="Barista", role="Barista", questions=(QuestionForm("Why?"),),
                                          stages=(StageSpec(kind=StageKind.SMS, sms=spec),
                                                  StageSpec(kind=StageKind.VOICE))))
    interviews.publish(row.slug)
    robin = Candidates(store.engine).add(slug=row.slug, name="Robin Reader", phone="(415) 555-0100")
    cid = robin.id or 0
    clock = [datetime(2026, 12, 8, 20, 0, tzinfo=UTC)]
    stages = SmsStages(store.engine, settings, now=lambda: clock[0])
    assert stages.round() == 1
    answers = Pipeline(store.engine).results([cid])[cid][0].answers
    first = answers["sms"]["turns"][0]["text"]
    link = f"{settings.base_url}/notice?version=0"
    assert link in first and "run by an AI" in first and first.endswith("Which shifts can you work?")
    assert answers["sms"]["notice_version"] == 0
    assert Consents(store.engine).consents_of(cid) == []  # sending the link is not consent
    Notices(store.engine).save("Version one.", None, settings.base_url)  # a new version meanwhile
    clock[0] += timedelta(minutes=5)
    assert stages.inbound(cid, "Mornings and weekends, any day but Thursday.")
    stages.inbound(cid, "From the 4th of January.")
    [consent] = Consents(store.engine).consents_of(cid)  # the first reply only
    assert (consent.channel, consent.address, consent.notice_version) == ("sms", "+14155550100", 0)
    assert consent.consented_at == clock[0]
