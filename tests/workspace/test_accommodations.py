"""Accommodations in the workspace (real SQLite): extra time within 1.0..3.0, the written path only where
the interview has a text stage, a request recorded and escalated to "Needs a person" without its detail,
a person's grant or decline audited (never on the profile's candidate activity), and what is in force kept
through a new request. Also: what the scorer receives for a session is the same with and without one."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.contacts import Contacts
from milo_voice.scoring.card import ScriptedQuestion
from milo_voice.scoring.job_table import JobTable
from milo_voice.scoring.jobs import LocalQueue
from milo_voice.scoring.result import Judgement
from milo_voice.scoring.rubric import Criterion, QuestionRubric
from milo_voice.scoring.scorer import QuestionInput
from milo_voice.scoring.service import ScoringService
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Settings
from milo_voice.stages.types import FieldKind, FormField, FormSpec, StageSpec
from milo_voice.store.repo import Invalid, NotFound
from milo_voice.store.tables import StageKind, UserRole
from milo_voice.workspace.accommodations import ESCALATION_REASON, Accommodations, Asked, check_multiplier
from milo_voice.workspace.accounts import Accounts, Principal
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from workspace.sessions import store_session

RUBRIC = QuestionRubric(
    criteria=(Criterion(id="dish", name="Names a dish", anchors={1: "Names nothing.", 5: "Soup and bread."}),)
)
STAGED = (
    StageSpec(
        kind=StageKind.FORM, form=FormSpec(fields=(FormField(id="ok", kind=FieldKind.YES_NO, label="Ok?"),))
    ),
    StageSpec(kind=StageKind.VOICE),
)


def interview(store: SessionStore, stages: tuple[StageSpec, ...] = ()) -> str:
    interviews = Interviews(store.engine)
    form = InterviewForm(
        title="Cook", questions=(QuestionForm("What is your favourite recipe?"),), stages=stages
    )
    row = interviews.create(form)
    interviews.publish(row.slug)
    interviews.set_rubric_at(row.id or 0, 0, RUBRIC)
    return row.slug


@pytest.fixture
def admin(store: SessionStore) -> Principal:
    user = Accounts(store.engine).create_user(email="ada@example.com", password="x" * 12, role="admin")
    return Principal(user.id or 0, user.email, UserRole.ADMIN)


def test_extra_time_is_bounded_with_a_clear_message(store: SessionStore, admin: Principal) -> None:
    cid = Candidates(store.engine).add(slug=interview(store), name="Bo Baker").id or 0
    accommodations = Accommodations(store.engine)
    for bad, says in (
        ("0.5", "out of range"),
        ("3.01", "out of range"),
        (5, "out of range"),
        ("nan", "out of range"),
        ("inf", "out of range"),
        ("twice", "is not a number"),
        ("", "not"),
    ):
        with pytest.raises(Invalid, match=says):
            accommodations.grant(admin, cid, multiplier=bad, text_only=False, note="")
    assert accommodations.multiplier(cid) == 1.0 and accommodations.get(cid).id is None  # nothing stored
    assert Audit(store.engine).recent(target_type="accommodation") == []
    assert check_multiplier("1") == 1.0 and check_multiplier(3) == 3.0 and check_multiplier(" 2.5 ") == 2.5
    assert (
        accommodations.grant(admin, cid, multiplier="3.0", text_only=False, note="").patience_multiplier
        == 3.0
    )
    assert accommodations.multiplier(cid) == 3.0
    with pytest.raises(NotFound):
        accommodations.grant(admin, 999, multiplier=2, text_only=False, note="")


def test_the_written_path_needs_a_text_stage(store: SessionStore, admin: Principal) -> None:
    candidates, accommodations = Candidates(store.engine), Accommodations(store.engine)
    voice_only = candidates.add(slug=interview(store), name="Vi Voice").id or 0
    staged = candidates.add(slug=interview(store, STAGED), name="Fo Form").id or 0
    assert accommodations.text_path(voice_only) == "" and accommodations.text_path(staged) == "form"
    with pytest.raises(Invalid, match="no form or SMS stage"):
        accommodations.grant(admin, voice_only, multiplier=1, text_only=True, note="")
    assert not accommodations.written(voice_only) and not accommodations.written(staged)
    accommodations.grant(admin, staged, multiplier=1, text_only=True, note="dyslexia: writes at her pace")
    assert accommodations.written(staged)


def test_a_request_is_recorded_escalated_and_answered_with_an_audit_trail(
    settings: Settings, store: SessionStore, admin: Principal
) -> None:
    cid = Candidates(store.engine).add(slug=interview(store, STAGED), name="Ria Request").id or 0
    accommodations, contacts, audit = (
        Accommodations(store.engine),
        Contacts(store.engine),
        Audit(store.engine),
    )
    for empty in (Asked("", False, False), Asked("   \x00 ", False, False)):
        with pytest.raises(Invalid, match="tick what you need"):
            accommodations.request(cid, empty, settings)
    with pytest.raises(Invalid, match="at most 2000"):
        accommodations.request(cid, Asked("x" * 2001, True, False), settings)
    assert contacts.flagged() == [] and audit.recent(target_type="accommodation") == []

    row = accommodations.request(cid, Asked("I have a stammer.\r\nPlease be patient.", True, True), settings)
    assert row.status == "requested" and row.requested_at is not None
    assert row.request_text == (
        "Asked for: more time to answer; to answer in writing instead of speaking.\n\n"
        "I have a stammer.\nPlease be patient."
    )
    [flag] = contacts.flagged()
    assert (flag.candidate_id, flag.kind, flag.reason) == (cid, "accommodation", ESCALATION_REASON)
    assert "stammer" not in flag.reason  # the queue and the admins' email carry no detail
    assert accommodations.multiplier(cid) == 1.0  # asking grants nothing

    with pytest.raises(Invalid, match="say why"):
        accommodations.decline(admin, cid, note="  ")
    granted = accommodations.grant(admin, cid, multiplier="2", text_only=True, note="Agreed by phone.")
    assert (granted.status, granted.patience_multiplier, granted.text_only) == ("granted", 2.0, True)
    assert (granted.handled_by, granted.note) == (admin.user_id, "Agreed by phone.")
    assert contacts.flagged() == [] and not contacts.get(cid).paused  # answered: the flag is handled

    accommodations.request(cid, Asked("More time still, please.", True, False), settings)
    assert accommodations.multiplier(cid) == 2.0  # a new request keeps what is in force
    declined = accommodations.decline(admin, cid, note="Twice as long is the most we can run live.")
    assert (declined.status, declined.patience_multiplier, declined.text_only) == ("declined", 2.0, True)

    events = [(e.action, e.actor, e.target_id) for e in reversed(audit.recent(target_type="accommodation"))]
    assert events == [
        ("accommodation.request", "anonymous", str(cid)),
        ("accommodation.grant", admin.email, str(cid)),
        ("resume_outreach", admin.email, str(cid)),  # the "Needs a person" flag, handled by the answer
        ("accommodation.request", "anonymous", str(cid)),  # flagged again
        ("accommodation.decline", admin.email, str(cid)),
        ("resume_outreach", admin.email, str(cid)),
    ]
    [grant] = [e for e in audit.recent(target_type="accommodation") if e.action == "accommodation.grant"]
    assert grant.detail["before"] == {"multiplier": 1.0, "text_only": False, "status": "requested"}
    assert grant.detail["after"] == {"multiplier": 2.0, "text_only": True, "status": "granted"}
    assert "stammer" not in str([e.detail for e in audit.recent()])  # the audit keeps no words of theirs
    on_profile = [e.action for e in audit.recent(target_type="candidate", target_id=cid)]
    assert not any(a.startswith("accommodation") for a in on_profile)


class RecordingScorer:
    """A scorer that records every input it is given and decides nothing (the `Scorer` protocol)."""

    name, label, model = "offline", "recording scorer", "none"

    def __init__(self) -> None:
        self.inputs: list[QuestionInput] = []

    def fingerprint(self, question: QuestionInput) -> str:
        return repr(question)

    async def judge(self, question: QuestionInput) -> list[Judgement]:
        self.inputs.append(question)
        return []


class Statuses:
    def set_status(self, candidate_id: int, status: object) -> None:
        """Scoring's status changes are not under test here."""


def test_the_scorer_receives_the_same_inputs_with_and_without_an_accommodation(
    settings: Settings, store: SessionStore, admin: Principal, tmp_path: Path
) -> None:
    slug = interview(store, STAGED)
    candidates, accommodations = Candidates(store.engine), Accommodations(store.engine)
    plain, helped = (candidates.add(slug=slug, name=n) for n in ("Pat Plain", "Hal Helped"))
    accommodations.request(helped.id or 0, Asked("I am hard of hearing.", True, True), settings)
    accommodations.grant(admin, helped.id or 0, multiplier="2.5", text_only=True, note="Hearing aid.")
    service = ScoringService(
        settings, ScoringStore(store.engine), LocalQueue(JobTable(store.engine)), Statuses()
    )
    seen: list[tuple[list[QuestionInput], list[ScriptedQuestion]]] = []
    for candidate in (plain, helped):
        sid = store_session(
            store,
            candidate_id=candidate.id or 0,
            interview_id=candidate.interview_id,
            directory=tmp_path / candidate.name,
        )
        scorer = RecordingScorer()
        card = run(lambda sid=sid, scorer=scorer: service.score(sid, scorer=scorer))
        seen.append((scorer.inputs, ScoringStore(store.engine).questions(candidate.interview_id)))
        assert "2.5" not in card.model_dump_json() and "hearing" not in card.model_dump_json().lower()
    assert seen[0][0] and seen[0] == seen[1]
