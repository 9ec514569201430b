"""Self-identification stored apart (its writer) and the audit's loader over a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from milo_voice.calls.session_store import SessionStore
from milo_voice.store.repo import Invalid
from milo_voice.store.tables import CandidateStatus
from milo_voice.workspace.bias_audit import load_rows
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.demo import Demo
from milo_voice.workspace.self_identification import SelfIdentifications


def test_record_replace_withdraw_and_refuse_unknown_values(store: SessionStore) -> None:
    _, candidate = Demo(store.engine).seed()
    ids = SelfIdentifications(store.engine)
    assert candidate.id is not None
    ids.record(candidate.id, sex="female", race_ethnicity="asian")
    ids.record(candidate.id, sex="declined", race_ethnicity="asian")
    found = ids.for_audit([candidate.id])[candidate.id]
    assert (found.sex, found.race_ethnicity) == ("declined", "asian")
    with pytest.raises(Invalid):
        ids.record(candidate.id, sex="other", race_ethnicity="asian")
    with pytest.raises(Invalid):
        ids.record(candidate.id, sex="male", race_ethnicity="martian")
    assert ids.withdraw(candidate.id) is True
    assert ids.withdraw(candidate.id) is False
    assert ids.for_audit([candidate.id]) == {}


def test_the_loader_keeps_the_assessed_in_the_range_with_their_answers(store: SessionStore) -> None:
    _, invited = Demo(store.engine).seed()  # never took the interview: not assessed
    people = Candidates(store.engine)
    done, picked, out = (people.add(slug="demo", name=n).id or 0 for n in ("Done", "Picked", "Out"))
    people.set_status(done, CandidateStatus.COMPLETED)
    people.decide([picked], CandidateStatus.SHORTLISTED.value)
    people.set_status(out, CandidateStatus.KNOCKED_OUT)
    SelfIdentifications(store.engine).record(picked, sex="female", race_ethnicity="white")
    today = datetime.now(UTC).date()
    title, rows = load_rows(store.engine, "demo", today - timedelta(days=1), today + timedelta(days=1))
    assert title
    by_id = {r.candidate_id: r for r in rows}
    assert set(by_id) == {done, picked, out} and invited.id not in by_id
    assert [by_id[c].selected for c in (done, picked, out)] == [False, True, False]
    assert (by_id[picked].sex, by_id[picked].race_ethnicity) == ("female", "white")
    assert (by_id[done].sex, by_id[done].race_ethnicity) == ("", "")
    _, later = load_rows(store.engine, "demo", today + timedelta(days=2), today + timedelta(days=9))
    assert later == []
