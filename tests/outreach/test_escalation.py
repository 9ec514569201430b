"""Escalation to a person (issue 16): the classifier on both sides of each rule, repeated
confusion, SMS replies, and the flag kept in the candidate's contact row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.escalation import FlagKind, classify, from_reply, from_transcript
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews

P, A, C = FlagKind.ASKED_FOR_PERSON, FlagKind.ACCOMMODATION, FlagKind.CONFUSION


@pytest.mark.parametrize(("said", "kind"), [
    ("Can I talk to a real person please?", P),
    ("I\u2019d rather speak with a recruiter.", P),
    ("Is this a robot?", P),
    ("am I talking to a computer", P),
    ("I want a human to call me", P),
    ("Could someone call me?", P),
    ("I'm hard of hearing, so please speak slowly", A),
    ("I have a disability and need more time for each answer", A),
    ("Do you have a sign language interpreter?", A),
    ("I use a screen reader", A),
    ("I don't understand the question", C),
    ("Sorry, what do you mean?", C),
    ("Could you repeat that?", C),
    ("I'm a bit confused", C),
    # ordinary answers: nothing
    ("I worked as a customer service person for three years", None),
    ("I understand the role and I like people", None),
    ("My manager would talk to the team every morning", None),
    ("We had to speak with customers about their orders", None),
    ("Is this a real job? It sounds great", None),
    ("I need more coffee in the morning", None),
    ("I repeat the order back to the customer", None),
    ("I don't get tired easily on long shifts", None),
])
def test_the_classifier_flags_requests_and_leaves_ordinary_answers(said: str, kind: FlagKind | None) -> None:
    assert classify(said) is kind


def test_confusion_flags_only_when_it_comes_back() -> None:
    assert from_transcript(["I don't understand the question", "I served coffee for a year"]) is None
    flag = from_transcript(["I don't understand the question", "fine", "Sorry, what do you mean?"])
    assert flag is not None and flag.kind is C and "2 times" in flag.reason
    person = from_transcript(["I have worked nights", "Can I speak to a real person about the schedule?"])
    assert person is not None and person.kind is P and "real person" in person.quote
    assert from_transcript(["x " * 300 + " is this a robot"]) is not None
    assert len(from_transcript(["is this a robot " + "word " * 300]).quote) <= 200  # type: ignore[union-attr]


def test_every_free_text_reply_needs_a_person() -> None:
    assert from_reply("Thanks, will do it tonight").kind is FlagKind.REPLY
    assert from_reply("Can I talk to someone instead?").kind is P
    assert from_reply("I'm deaf, can I do this in writing instead?").kind is A
    assert from_reply("what do you mean?").kind is FlagKind.REPLY


def test_a_flag_pauses_the_candidate_keeps_the_first_reason_and_resume_clears_it(store: SessionStore) -> None:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Barista", questions=(QuestionForm("Why coffee?"),)))
    slug = interviews.publish(row.slug).slug
    robin = Candidates(store.engine).add(slug=slug, name="Robin", email="r@example.com")
    contacts, at = Contacts(store.engine), datetime(2026, 12, 7, 9, tzinfo=UTC)
    assert contacts.flag(robin.id or 0, P, "asked for a person", at)
    assert not contacts.flag(robin.id or 0, A, "later reason", at)  # the first flag stays
    got = contacts.get(robin.id or 0)
    assert (got.paused, got.flag_kind, got.pause_reason, got.flagged_at) == (True, "asked_for_person",
                                                                             "asked for a person", at)
    assert [(f.candidate_id, f.kind) for f in contacts.flagged()] == [(robin.id, "asked_for_person")]
    contacts.resume(robin.id or 0)
    got = contacts.get(robin.id or 0)
    assert (got.paused, got.flag_kind, got.flagged_at) == (False, "", None)
    assert contacts.flagged() == []
